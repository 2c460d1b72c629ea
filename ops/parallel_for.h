// Splits a batch's work over TensorFlow's CPU thread pool.

#ifndef TF_ANC_OPS_PARALLEL_FOR_H_
#define TF_ANC_OPS_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "helper_threads.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/util/work_sharder.h"

namespace tf_anc {

// Runs `work(begin, end)` over items [0, count) (examples, groups of
// examples) on the CPU thread pool; Shard keeps few cheap items on one
// thread. `cost_per_item`: rough cycles per item.
template <typename Work>
void ParallelFor(::tensorflow::OpKernelContext* context, int64_t count,
                 int64_t cost_per_item, const Work& work) {
  const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
  ::tensorflow::Shard(threads.num_threads, threads.workers, count,
                      cost_per_item, work);
}

// Like ParallelFor, for a few costly items (the run ops' groups of
// examples), which the calling thread and helper threads (helper_threads.h,
// or the pool's when those are busy) claim one chunk at a time until none
// is left: the caller waits only for chunks that another thread has begun,
// never for a thread that has yet to start (on a busy machine a woken
// thread can take longer to run than the work it was given; Shard's caller
// would wait for it). As many helpers as the pool has threads besides the
// caller's. Runs everything on the calling thread when the whole costs
// under kMinParallelCost cycles.
template <typename Work>
void ClaimParallelFor(::tensorflow::OpKernelContext* context, int64_t count,
                      int64_t cost_per_item, const Work& work) {
  constexpr int64_t kMinParallelCost = 100000;
  const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
  const int64_t helpers =
      std::min<int64_t>(count, threads.num_threads) - 1;
  if (helpers <= 0 || count * cost_per_item < kMinParallelCost) {
    work(0, count);
    return;
  }
  // Chunks of about a quarter of an even share: few enough that each
  // thread's per-call set-up is paid rarely, enough to balance the load.
  const int64_t chunk =
      std::max<int64_t>(1, count / (4 * (helpers + 1)));
  struct Claims {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> finished{0};  // items done
    std::mutex mutex;
    std::condition_variable all_finished;
  };
  const auto claims = std::make_shared<Claims>();
  // A helper that starts after the last claim touches only `claims` (which
  // it co-owns), never `work`, so the caller need not wait for it.
  auto drain = [claims, count, chunk, &work] {
    for (;;) {
      const int64_t begin = claims->next.fetch_add(chunk);
      if (begin >= count) return;
      const int64_t end = std::min(count, begin + chunk);
      work(begin, end);
      if (claims->finished.fetch_add(end - begin) + (end - begin) == count) {
        std::lock_guard<std::mutex> lock(claims->mutex);
        claims->all_finished.notify_all();
      }
    }
  };
  for (int64_t helper = 0; helper < helpers; ++helper) {
    if (!RunOnHelperThread(drain, static_cast<int>(helpers))) {
      threads.workers->Schedule(drain);
    }
  }
  drain();
  // The helpers' last chunks end soon after the caller's, as a rule: watch
  // for them a while, rather than sleep and be woken late.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  while (claims->finished.load() != count &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(claims->mutex);
  claims->all_finished.wait(lock, [&claims, count] {
    return claims->finished.load() == count;
  });
}

}  // namespace tf_anc

#endif  // TF_ANC_OPS_PARALLEL_FOR_H_
