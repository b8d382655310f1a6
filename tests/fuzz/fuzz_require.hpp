#pragma once
// The fuzz targets' one assertion: a broken property aborts, which libFuzzer
// reports as a finding with the input that caused it.

#include <cstdlib>

namespace fuzz {

/// Aborts unless `ok`.
inline void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace fuzz
