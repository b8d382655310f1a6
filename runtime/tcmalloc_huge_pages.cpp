// Linked into executables that use tcmalloc (cmake/marketd_allocator.cmake):
// tcmalloc's memory comes from the system in 2 MiB-aligned, 2 MiB-rounded
// pieces marked for transparent huge pages. Spawning 100,000 processes then
// costs ~1,500 page faults instead of ~25,000 (each a few µs on a VM), and
// the TLB covers the process heap with a few hundred entries.
// MARKETD_HUGE_PAGES=0 in the environment keeps tcmalloc's default.
// Kernels with THP "never" ignore the advice; nothing else changes.

#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <cstdlib>
#include <string_view>

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

/// tcmalloc's system allocator, asked for whole aligned huge pages.
class HugePageSystemAllocator final : public SysAllocator {
 public:
  explicit HugePageSystemAllocator(SysAllocator* base) : base_(base) {}

  void* Alloc(std::size_t size, std::size_t* actual_size, std::size_t alignment) override {
    // A huge page is only used where its whole aligned 2 MiB lies in the
    // advised range: round both, or the heap grows in pieces none of which
    // ever holds one.
    size = (size + kHugePage - 1) & ~(kHugePage - 1);
    if (alignment < kHugePage) alignment = kHugePage;
    void* p = base_->Alloc(size, actual_size, alignment);
    if (p != nullptr) (void)madvise(p, *actual_size, MADV_HUGEPAGE);  // advice: failure is harmless
    return p;
  }

 private:
  SysAllocator* base_;
};

/// Installs the allocator before main(), while the heap is still small.
struct Install {
  Install() {
    const char* env = std::getenv("MARKETD_HUGE_PAGES");
    if (env != nullptr && std::string_view(env) == "0") return;
    MallocExtension* ext = MallocExtension::instance();
    SysAllocator* base = ext->GetSystemAllocator();
    if (base == nullptr) return;
    static HugePageSystemAllocator allocator(base);
    ext->SetSystemAllocator(&allocator);
  }
};
const Install install;

}  // namespace
