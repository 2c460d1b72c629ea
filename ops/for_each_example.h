// Splits a batch over TensorFlow's CPU thread pool.

#ifndef TF_ANC_OPS_FOR_EACH_EXAMPLE_H_
#define TF_ANC_OPS_FOR_EACH_EXAMPLE_H_

#include <cstdint>

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/util/work_sharder.h"

namespace tf_anc {

// Runs `work(begin, end)` over examples [0, batch) on the CPU thread pool;
// Shard keeps a small batch on one thread when an example is cheap.
// `cost_per_example`: rough cycles per example.
template <typename Work>
void ForEachExample(::tensorflow::OpKernelContext* context, int64_t batch,
                    int64_t cost_per_example, const Work& work) {
  const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
  ::tensorflow::Shard(threads.num_threads, threads.workers, batch,
                      cost_per_example, work);
}

}  // namespace tf_anc

#endif  // TF_ANC_OPS_FOR_EACH_EXAMPLE_H_
