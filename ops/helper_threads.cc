#include "helper_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "tsl/platform/denormal.h"

namespace tf_anc {
namespace {

// How long a helper that has run a task watches for the next: well beyond
// TensorFlow's cost of calling a traced function (about 0.3 ms), so that a
// loop's next call finds it awake. At 0.5 ms, 16% of the ListK benchmark's
// ops found it asleep (and waited 0.3 ms for it on average); at 2 ms, 6 in
// 11,000.
constexpr auto kWatch = std::chrono::milliseconds(3);

class HelperThread {
 public:
  // Its thread runs until the process ends, as does the helper.
  HelperThread() { std::thread([this] { Loop(); }).detach(); }

  // Claims this thread if idle.
  bool TryClaim() {
    bool idle = true;
    return idle_.compare_exchange_strong(idle, false);
  }

  // Runs `task` on this claimed thread.
  void Post(std::function<void()> task, tsl::port::DenormalState denormals) {
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
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] {
      return posted_.load(std::memory_order_relaxed);
    });
  }

  std::atomic<bool> idle_{false};  // claimed by its first Post
  std::atomic<bool> posted_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> task_;
  tsl::port::DenormalState denormals_{false, false};
};

}  // namespace

bool RunOnHelperThread(std::function<void()> task, int max_helpers) {
  // Never destroyed: its threads run until the process ends.
  static std::mutex* const mutex = new std::mutex;
  static std::vector<HelperThread*>* const helpers =
      new std::vector<HelperThread*>;
  const tsl::port::DenormalState denormals = tsl::port::GetDenormalState();
  HelperThread* claimed = nullptr;
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
  if (claimed == nullptr) return false;
  claimed->Post(std::move(task), denormals);
  return true;
}

}  // namespace tf_anc
