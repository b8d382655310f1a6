# Executables that run the actor runtime link tcmalloc (gperftools): a message
# is one small allocation made on one thread and freed on another, the pattern
# glibc's small per-thread cache handles worst (docs/decisions/003-allocator.md).
# Sanitizer builds keep the sanitizer's own allocator.

find_library(MARKETD_TCMALLOC_LIB NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)

# marketd_use_allocator(<target>): links tcmalloc into an executable when available.
function(marketd_use_allocator target)
  if(MARKETD_TCMALLOC_LIB AND NOT MARKETD_SANITIZE)
    target_link_libraries(${target} PRIVATE ${MARKETD_TCMALLOC_LIB})
    target_compile_definitions(${target} PRIVATE MARKETD_WITH_TCMALLOC=1)
  endif()
endfunction()
