# Compiler flags for marketd's own targets. Third-party headers are included as
# SYSTEM so that -Werror applies to our code only.

add_library(marketd_warnings INTERFACE)
target_compile_options(marketd_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  # Designated initializers that rely on member defaults are idiomatic here.
  -Wno-missing-field-initializers
  # GCC 12 reports false maybe-uninitialized through std::variant members that
  # hold a shared_ptr (GCC PR 105562 family); -Wuninitialized stays on.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
if(MARKETD_WERROR)
  target_compile_options(marketd_warnings INTERFACE -Werror)
endif()

if(MARKETD_SANITIZE)
  add_compile_options(-fsanitize=${MARKETD_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${MARKETD_SANITIZE})
  if(MARKETD_SANITIZE MATCHES "thread")
    # Boost.Asio's headers use atomic_thread_fence, which GCC flags under TSan.
    target_compile_options(marketd_warnings INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  endif()
  if(MARKETD_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# marketd_target(<name>): applies the project's warnings and include root to a target.
function(marketd_target name)
  target_link_libraries(${name} PRIVATE marketd_warnings)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
