// Splits a batch's work over TensorFlow's CPU thread pool.

#ifndef TF_ANC_OPS_PARALLEL_FOR_H_
#define TF_ANC_OPS_PARALLEL_FOR_H_

#include <cstdint>

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

}  // namespace tf_anc

#endif  // TF_ANC_OPS_PARALLEL_FOR_H_
