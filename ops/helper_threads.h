// Threads that stay awake a little while between the run ops' calls.
//
// ClaimParallelFor hands a second stream of examples to another thread and
// waits for it. A thread of TensorFlow's pool that has gone to sleep takes
// 40-100 us to start on a virtual machine (the host must wake its idle
// core), while the forward op's whole stream takes about 200 us at the ListK
// shape. These helpers, having run a task, watch for the next one for
// 3 ms (kWatch) before they sleep, so that a training loop's next op (the
// gradient after the forward, the next batch's forward) finds one awake;
// one watching on the caller's core is moved off it when posted to.

#ifndef TF_ANC_OPS_HELPER_THREADS_H_
#define TF_ANC_OPS_HELPER_THREADS_H_

#include <functional>

namespace tf_anc {

// Starts `task` on an idle helper thread, with the calling thread's
// handling of denormal floats (TensorFlow's threads flush them); false,
// running nothing, when `max_helpers` are busy already.
bool RunOnHelperThread(std::function<void()> task, int max_helpers);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_HELPER_THREADS_H_
