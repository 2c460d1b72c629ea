// A whole run of the differentiable machine as two fused CPU ops:
// `AncMachineRun` executes up to T = max_steps steps, the controller and the
// halting mask included, and `AncMachineRunGrad` is its hand-derived
// backward pass. The reference is tf_anc/machine/soft_machine.py's plain-TF
// loop; tests/test_fused_run.py holds both to the same values and gradients.
//
// Per example, a step is: the controller's four softmaxes over
// `instruction_register @ logits` (the logits of the example's restart;
// controller.cc), then the machine step (step_arithmetic.cc), applied only
// while the example's halting probability is below eta_stop; a halted
// example keeps its state. Examples are independent: they run kLanes at a
// time, one per SIMD lane, so that every operation is a vector operation
// whatever M is. The batch is cut into streams of consecutive examples,
// split over TF's CPU thread pool; a stream's lanes take its examples in
// order, each lane the next one as soon as its own halts, so that a lane
// never idles behind a slower example (examples halt after anywhere from a
// few steps to T). The forward op (machine_run_forward.cc) keeps what each
// vector step computed on the way and the lanes' state every few steps
// (`saved`); the backward pass (machine_run_gradient.cc) recomputes the
// states in between from those, cheaply, rather than the whole steps, and
// finds which example each lane ran when from `running` (StreamSchedule).
//
// This header is what those files and the ops' registrations
// (machine_run.cc) share: the ops' inputs and outputs, a run's sizes, the
// layout of the saved run, and a stream's schedule.

#ifndef TF_ANC_OPS_MACHINE_RUN_H_
#define TF_ANC_OPS_MACHINE_RUN_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "step_arithmetic.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tf_anc {

// The run's inputs, in op order: the initial state, then the logits of the
// four command distributions (the kNumInputs that have gradients), then
// the target of the per-step errors and its mask (empty unless
// trace_errors).
enum RunInput {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionLogits,
  kFirstArgumentLogits, kSecondArgumentLogits, kOutputLogits, kNumInputs,
  kErrorTarget = kNumInputs, kErrorMask, kNumRunInputs
};
constexpr int kNumDistributions = 4;

// The forward op's outputs, in op order.
enum RunOutput {
  kFinalMemory, kFinalRegisters, kHaltingProbabilities, kRunning, kSteps,
  kMemoryTrace, kStepErrors, kSaved, kMemoryAtHalting, kNumOutputs
};
// The gradient op's inputs after the forward op's ten: two forward
// outputs, then the gradients of the five float outputs other than saved.
enum RunGradInput {
  kForwardRunning = kNumRunInputs, kForwardSaved, kGradFinalMemory,
  kGradFinalRegisters, kGradHaltingProbabilities, kGradMemoryTrace,
  kGradStepErrors, kNumGradInputs
};

// A command's four distributions side by side, e (kNumInstructions values),
// a, b and o (R each): the controller computes their logits as one
// vector-matrix product with the four logits matrices side by side.
struct CommandLayout {
  explicit CommandLayout(const Sizes& n)
      : widths{kNumInstructions, n.registers, n.registers, n.registers},
        offsets{0, kNumInstructions, kNumInstructions + n.registers,
                kNumInstructions + 2 * n.registers},
        size(kNumInstructions + 3 * n.registers) {}

  template <typename T>
  T* At(T* command, int distribution) const {
    return command + offsets[distribution];
  }
  template <typename V>
  Command<V> Read(const V* command) const {
    return {At(command, 0), At(command, 1), At(command, 2), At(command, 3)};
  }
  template <typename V>
  MutableCommand<V> Write(V* command) const {
    return {At(command, 0), At(command, 1), At(command, 2), At(command, 3)};
  }

  int64_t widths[kNumDistributions];
  int64_t offsets[kNumDistributions];
  int64_t size;  // N
};

// How many steps apart the forward pass keeps a stream's state; the
// backward pass recomputes the states in between from the steps' saved
// values (with ApplyStep, a small part of a step's cost). Keeping every
// state instead makes a large batch's saved run outgrow the caches: its
// memory traffic then costs more than the arithmetic.
constexpr int64_t kCheckpointInterval = 8;

// How many examples run side by side: kLanes, or one for a batch that
// would leave most lanes idle (kLanes lanes cost about what two to four
// examples do one at a time).
inline int64_t LaneWidth(int64_t batch) {
  return 2 * batch < kLanes ? 1 : kLanes;
}

// How many lane-widths of examples a stream holds: enough that its lanes
// are seldom idle at its end (then only its longest examples run), few
// enough that a batch makes streams for the threads to share.
inline int64_t StreamWidths(int64_t widths) {
  return std::clamp<int64_t>((widths + 3) / 4, 1, 8);
}

// The sizes of one run, and the layout of a stream's saved run (in values
// of the lanes' width): the state before every kCheckpointInterval-th
// vector step (memory, registers, IR, halting), then each vector step's
// record: its command and its StepValues. A stream of c examples takes at
// most ceil(c / width) T vector steps (lanes take the next example as
// theirs halt, so they are busy but at its end).
struct RunSizes {
  RunSizes(int64_t batch, int64_t restarts, int64_t steps, const Sizes& step)
      : batch(batch), restarts(restarts), steps(steps), step(step),
        command(step), width(LaneWidth(batch)),
        stream_widths(StreamWidths((batch + width - 1) / width)),
        stream_examples(stream_widths * width),
        streams((batch + stream_examples - 1) / stream_examples),
        stream_steps(stream_widths * steps),
        memory(step.memory * step.memory),
        registers(step.registers * step.memory),
        state(memory + registers + step.memory + 1),
        checkpoints((stream_steps + kCheckpointInterval - 1) /
                    kCheckpointInterval),
        step_record(command.size + StepValuesSize(step)),
        saved_stream(checkpoints * state + stream_steps * step_record),
        logits(step.memory * command.size) {}

  int64_t batch;     // B, restart-major: example b runs restart b / (B / K)
  int64_t restarts;  // K
  int64_t steps;     // T
  Sizes step;        // M and R
  CommandLayout command;
  int64_t width;            // examples side by side: LaneWidth(B)
  int64_t stream_widths;    // StreamWidths(ceil(B / width))
  int64_t stream_examples;  // stream_widths * width
  int64_t streams;          // ceil(B / stream_examples)
  int64_t stream_steps;     // the most vector steps of a stream
  // Per example: the memory, the registers and the whole state; the
  // checkpoints per stream, a step's record and a whole saved stream; a
  // restart's logits side by side ([M, N]).
  int64_t memory, registers, state, checkpoints, step_record, saved_stream,
      logits;
};

// Rough cycles of a stream's run: its vector steps and their controllers.
inline int64_t StreamCost(const RunSizes& n) {
  return n.stream_steps * (StepCost(n.step) + 4 * n.logits);
}

// One stream's saved run.
template <typename T>  // V or const V
struct SavedRun {
  SavedRun(const RunSizes& n, T* saved, int64_t stream)
      : n(n), data(saved + stream * n.saved_stream) {}

  // The state before vector step checkpoint * kCheckpointInterval.
  T* Checkpoint(int64_t checkpoint) const {
    return data + checkpoint * n.state;
  }
  // Vector step t's command, followed by its StepValues.
  T* Record(int64_t t) const {
    return data + n.checkpoints * n.state + t * n.step_record;
  }

  const RunSizes& n;
  T* data;
};

// The shapes of the ten inputs (with trace_errors) and of the nine
// outputs of a run.
std::vector<::tensorflow::TensorShape> RunInputShapes(const RunSizes& n);
std::vector<::tensorflow::TensorShape> RunOutputShapes(
    const RunSizes& n, bool trace_memory, bool trace_errors,
    bool halting_mixture);

// Validates the run inputs at run time (shape functions only see static
// shapes), the error target and mask only with `trace_errors`; reads B, K,
// M and R from them.
absl::Status ValidateRunInputs(::tensorflow::OpKernelContext* context,
                               int64_t steps, bool trace_errors,
                               RunSizes* sizes);

// A stream: the examples [first, first + count), which its lanes run
// one after another, each lane taking the next example when its own halts.
struct Stream {
  Stream(const RunSizes& n, int64_t index)
      : first(index * n.stream_examples),
        count(std::min(n.stream_examples, n.batch - first)) {}

  int64_t first;
  int64_t count;
};

// Which example each of a stream's lanes runs at each vector step, found
// from the examples' numbers of steps as the forward op assigns them: the
// lanes first take the stream's first examples in order, then after each
// vector step the lanes whose example halted, in order, each take the next
// one; an example that runs no step (halted from the start) takes no lane.
struct StreamSchedule {
  // example_steps[i]: the steps that the stream's example i runs.
  StreamSchedule(std::vector<int64_t> example_steps, int width)
      : width(width),
        lengths(std::move(example_steps)),
        start(lengths.size(), -1) {
    std::vector<int64_t> free_from(width, 0);  // each lane's next free step
    std::vector<std::pair<int64_t, int64_t>> runs;  // (example, lane)
    for (size_t i = 0; i < lengths.size(); ++i) {
      if (lengths[i] == 0) continue;
      const int lane = static_cast<int>(
          std::min_element(free_from.begin(), free_from.end()) -
          free_from.begin());
      start[i] = free_from[lane];
      free_from[lane] += lengths[i];
      runs.emplace_back(i, lane);
    }
    steps = *std::max_element(free_from.begin(), free_from.end());
    examples.assign(steps * width, -1);
    for (const auto& [i, lane] : runs) {
      for (int64_t t = start[i]; t < start[i] + lengths[i]; ++t) {
        examples[t * width + lane] = i;
      }
    }
  }

  // The stream example that `lane` runs at vector step t, or -1.
  int64_t Example(int64_t t, int lane) const {
    return examples[t * width + lane];
  }

  int width;
  std::vector<int64_t> lengths;  // each example's steps
  int64_t steps;                 // the stream's vector steps
  std::vector<int64_t> start;    // each example's first vector step, or -1
  std::vector<int64_t> examples;  // [steps, width]
};

// The lanes' state at `data`, laid out as RunSizes says.
template <typename V>
State<V> ReadState(const RunSizes& n, const V* data) {
  return {data, data + n.memory, data + n.memory + n.registers,
          data[n.state - 1]};
}

template <typename V>
MutableState<V> WriteState(const RunSizes& n, V* data) {
  return {data, data + n.memory, data + n.memory + n.registers,
          data + n.state - 1};
}

// The initial states of the examples that lanes take up at a vector step,
// moved into their lanes together (SetLanes) once every lane is seen to.
template <typename V>
class TakenExamples {
 public:
  // Lane `lane` takes up example b; `input` gives the run ops' float
  // inputs' data (RunInput -> const float*).
  template <typename Input>
  void Take(const RunSizes& n, const Input& input, int64_t b, int lane) {
    memory_[lane] = input(kMemory) + b * n.memory;
    registers_[lane] = input(kRegisters) + b * n.registers;
    instruction_register_[lane] =
        input(kInstructionRegister) + b * n.step.memory;
    halting_[lane] = input(kHalting) + b;
  }

  // Puts the examples taken since the last call in their lanes of `state`.
  void MoveInto(const RunSizes& n, const MutableState<V>& state) {
    if (!AnyRow<kWidth>(memory_)) return;  // most vector steps
    SetLanes(memory_, n.memory, state.memory);
    SetLanes(registers_, n.registers, state.registers);
    SetLanes(instruction_register_, n.step.memory,
             state.instruction_register);
    SetLanes(halting_, 1, state.halting);
    for (int lane = 0; lane < kWidth; ++lane) {
      memory_[lane] = registers_[lane] = nullptr;
      instruction_register_[lane] = halting_[lane] = nullptr;
    }
  }

 private:
  static constexpr int kWidth = LaneTraits<V>::kWidth;
  const float* memory_[kWidth] = {};
  const float* registers_[kWidth] = {};
  const float* instruction_register_[kWidth] = {};
  const float* halting_[kWidth] = {};
};

}  // namespace tf_anc

#endif  // TF_ANC_OPS_MACHINE_RUN_H_
