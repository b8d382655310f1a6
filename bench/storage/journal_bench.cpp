// Journal micro-benchmarks: how many records per second one JournalWriter
// acknowledges under each --fsync policy, one appending thread, 64-byte
// payloads, with up to 4096 records or just one awaiting an answer, on the
// disk under $TMPDIR (a real fsync: run it where the data directory would
// live). Also the encode + CRC32C cost of one record.
//   build/release/bench/journal_bench

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <string>

#include "bench/common/scratch_dir.hpp"
#include "storage/journal_writer.hpp"
#include "storage/record.hpp"
#include "storage/store.hpp"

namespace {

namespace fs = std::filesystem;
using storage::FsyncPolicy;

// A scratch directory, or no benchmark at all.
class ScratchDir : public bench::ScratchDir {
 public:
  ScratchDir() : bench::ScratchDir("journal_bench") {
    if (path().empty()) std::abort();
  }
};

// Arguments: the policy, and how many records may await their answer at
// once (1: each append waits for the previous answer, a round trip).
void BM_Append(benchmark::State& state) {
  const auto policy = static_cast<FsyncPolicy>(state.range(0));
  const auto window = static_cast<std::uint64_t>(state.range(1));
  ScratchDir dir;
  auto store = storage::Store::open(dir.path());
  if (!store) std::abort();
  const std::string payload(64, 'p');
  std::atomic<std::uint64_t> acked{0};
  std::uint64_t seq = 0;
  {
    storage::JournalWriter w(*store, {.fsync = policy, .compress = false});
    for (auto _ : state) {
      // Block (not spin) while the window is full: a spinning caller would
      // take the core the I/O thread needs on a small machine.
      for (std::uint64_t a = acked.load(); seq - a >= window; a = acked.load()) acked.wait(a);
      if (!w.append("BENCH", ++seq, payload, [&acked](const storage::Status& s) {
            if (s) acked.fetch_add(1);
            acked.notify_one();
          })) {
        std::abort();
      }
    }
    std::promise<void> done;
    if (!w.flush("BENCH", [&done](const storage::Status&) { done.set_value(); })) std::abort();
    done.get_future().wait();
    state.counters["records_per_sync"] =
        static_cast<double>(seq) / static_cast<double>(std::max<std::uint64_t>(w.stats().syncs, 1));
  }
  if (acked.load() != seq) std::abort();
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.SetLabel(storage::to_string(policy));
}
BENCHMARK(BM_Append)
    ->ArgNames({"policy", "window"})
    ->Args({static_cast<int>(FsyncPolicy::never), 4096})
    ->Args({static_cast<int>(FsyncPolicy::batch), 4096})
    ->Args({static_cast<int>(FsyncPolicy::always), 4096})
    ->Args({static_cast<int>(FsyncPolicy::batch), 1})
    ->Args({static_cast<int>(FsyncPolicy::always), 1})
    ->UseRealTime()
    ->MinTime(1.0)
    ->Unit(benchmark::kMicrosecond);

void BM_EncodeRecord(benchmark::State& state) {
  const std::string payload(static_cast<std::size_t>(state.range(0)), 'p');
  std::string buf;
  std::uint64_t seq = 0;
  for (auto _ : state) {
    buf.clear();
    storage::append_record(buf, ++seq, payload);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EncodeRecord)->Arg(64)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
