#include "helper_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#ifdef __linux__
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "tsl/platform/denormal.h"

namespace tf_anc {
namespace {

// How long a helper that has run a task watches for the next: well beyond
// TensorFlow's cost of calling a traced function (about 0.3 ms), so that a
// loop's next call finds it awake. At 0.5 ms, 16% of the ListK benchmark's
// ops found it asleep (and waited 0.3 ms for it on average); at 2 ms, 6 in
// 11,000.
constexpr auto kWatch = std::chrono::milliseconds(3);

// How long a caller waits for a busy helper to become idle: a helper is
// busy a moment after its task's last item is done (the op that waited for
// that item may already have returned and the next begun); 3% of the ListK
// benchmark's ops found it so, and the pool's thread they fell back on
// then took 100 us or more to start.
constexpr auto kClaimWait = std::chrono::microseconds(20);

class HelperThread {
 public:
  // Its thread runs until the process ends, as does the helper.
  HelperThread() { std::thread([this] { Loop(); }).detach(); }

  // Claims this thread if idle.
  bool TryClaim() {
    bool idle = true;
    return idle_.compare_exchange_strong(idle, false);
  }

  // Runs `task` on this claimed thread, called from `caller_cpu`.
  void Post(std::function<void()> task, tsl::port::DenormalState denormals,
            int caller_cpu) {
    MoveOff(caller_cpu);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = std::move(task);
      denormals_ = denormals;
      posted_.store(true, std::memory_order_release);
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
#ifdef __linux__
    thread_id_ = static_cast<pid_t>(syscall(SYS_gettid));
    if (sched_getaffinity(0, sizeof(allowed_), &allowed_) == 0) {
      started_.store(true, std::memory_order_release);
    }
#endif
    for (;;) {
      WaitForTask();
      std::function<void()> task;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        task = std::move(task_);
        task_ = nullptr;
        posted_.store(false, std::memory_order_relaxed);
        tsl::port::SetDenormalState(denormals_);
      }
#ifdef __linux__
      if (moved_.exchange(false)) {
        sched_setaffinity(0, sizeof(allowed_), &allowed_);
      }
#endif
      task();
      task = nullptr;
      idle_.store(true, std::memory_order_release);
    }
  }

  // Watches for a task for kWatch, then sleeps until one comes. Watching,
  // it yields its core to any other thread that is ready to run there.
  void WaitForTask() {
    const auto deadline = std::chrono::steady_clock::now() + kWatch;
    while (std::chrono::steady_clock::now() < deadline) {
      if (posted_.load(std::memory_order_acquire)) return;
#ifdef __linux__
      cpu_.store(sched_getcpu(), std::memory_order_relaxed);
#endif
      std::this_thread::yield();
    }
#ifdef __linux__
    cpu_.store(-1, std::memory_order_relaxed);
#endif
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] {
      return posted_.load(std::memory_order_relaxed);
    });
  }

  // A helper watching on the caller's core would run only when the caller
  // yields it, after the caller's own share as a rule (5% of the ListK
  // benchmark's ops, each then taking both streams' time): the caller
  // moves it to another core the process may use, and the helper, once
  // there, takes back its own cores.
  void MoveOff(int caller_cpu) {
#ifdef __linux__
    if (caller_cpu < 0 || !started_.load(std::memory_order_acquire) ||
        cpu_.load(std::memory_order_relaxed) != caller_cpu) {
      return;
    }
    cpu_set_t elsewhere = allowed_;
    CPU_CLR(caller_cpu, &elsewhere);
    if (CPU_COUNT(&elsewhere) > 0 &&
        sched_setaffinity(thread_id_, sizeof(elsewhere), &elsewhere) == 0) {
      moved_.store(true);
    }
#else
    (void)caller_cpu;
#endif
  }

  std::atomic<bool> idle_{false};  // claimed by its first Post
  std::atomic<bool> posted_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> task_;
  tsl::port::DenormalState denormals_{false, false};
#ifdef __linux__
  std::atomic<int> cpu_{-1};  // the core it last watched on, or -1
  std::atomic<bool> started_{false};  // thread_id_ and allowed_ set
  pid_t thread_id_ = 0;
  cpu_set_t allowed_;     // the cores its thread may run on
  std::atomic<bool> moved_{false};  // off the caller's core by MoveOff
#endif
};

}  // namespace

bool RunOnHelperThread(std::function<void()> task, int max_helpers) {
  // Never destroyed: its threads run until the process ends.
  static std::mutex* const mutex = new std::mutex;
  static std::vector<HelperThread*>* const helpers =
      new std::vector<HelperThread*>;
  const tsl::port::DenormalState denormals = tsl::port::GetDenormalState();
  HelperThread* claimed = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + kClaimWait;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(*mutex);
      for (HelperThread* helper : *helpers) {
        if (helper->TryClaim()) {
          claimed = helper;
          break;
        }
      }
      if (claimed == nullptr &&
          static_cast<int>(helpers->size()) < max_helpers) {
        claimed = new HelperThread;  // starts claimed
        helpers->push_back(claimed);
      }
    }
    if (claimed != nullptr) break;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
#ifdef __linux__
  const int caller_cpu = sched_getcpu();
#else
  const int caller_cpu = -1;
#endif
  claimed->Post(std::move(task), denormals, caller_cpu);
  return true;
}

}  // namespace tf_anc
