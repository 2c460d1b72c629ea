// AncMachineRunGrad's kernel: the hand-derived backward pass of
// AncMachineRun (machine_run.h). Each stream is undone from its last vector
// step to its first, a checkpoint's worth of steps at a time: the states of
// those steps are replayed from the checkpoint and the saved step records
// (lanes taking their next examples as in the forward pass), then each
// step's and controller's gradient is taken in reverse. A lane takes up an
// example at its last step, with the gradient of its final state, and hands
// on the gradient of its initial state at its first.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "controller.h"
#include "machine_run.h"
#include "parallel_for.h"
#include "step_arithmetic.h"
#include "step_errors.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tf_anc {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;

class AncMachineRunGradOp : public OpKernel {
 public:
  explicit AncMachineRunGradOp(OpKernelConstruction* context)
      : OpKernel(context) {
    std::string halting_gradient;
    OP_REQUIRES_OK(context,
                   context->GetAttr("halting_gradient", &halting_gradient));
    authors_halting_gradient_ = halting_gradient == "authors";
    OP_REQUIRES_OK(context,
                   context->GetAttr("memory_gradient", &memory_gradient_));
  }

  // Run inline, as AncMachineRun is (machine_run_forward.cc).
  bool IsExpensive() override { return false; }

  void Compute(OpKernelContext* context) override {
    const Tensor& running_tensor = context->input(kForwardRunning);
    OP_REQUIRES(context, running_tensor.dims() == 2,
                absl::InvalidArgumentError(
                    "running must have shape [batch, steps], got " +
                    running_tensor.shape().DebugString()));
    // The error target and mask matter only to a step errors' gradient.
    const bool errors = context->input(kGradStepErrors).NumElements() > 0;
    RunSizes n(0, 1, 0, {0, 0});
    OP_REQUIRES_OK(context, ValidateRunInputs(
                                context, running_tensor.dim_size(1), errors,
                                &n));
    const std::vector<TensorShape> forward_shapes =
        RunOutputShapes(n, true, true, false);
    // The forward outputs and the gradients this op reads; a gradient may be
    // empty, standing for zeros (an output nobody used), and the memory
    // trace's and step errors' are empty when the run kept none.
    struct Expected {
      int input;
      RunOutput output;
      bool may_be_empty;
    };
    for (const Expected& expected : {
             Expected{kForwardRunning, kRunning, false},
             Expected{kForwardSaved, kSaved, false},
             Expected{kGradFinalMemory, kFinalMemory, true},
             Expected{kGradFinalRegisters, kFinalRegisters, true},
             Expected{kGradHaltingProbabilities, kHaltingProbabilities, true},
             Expected{kGradMemoryTrace, kMemoryTrace, true},
             Expected{kGradStepErrors, kStepErrors, true}}) {
      const Tensor& value = context->input(expected.input);
      const TensorShape& shape = forward_shapes[expected.output];
      OP_REQUIRES(
          context,
          value.shape() == shape ||
              (expected.may_be_empty && value.NumElements() == 0),
          absl::InvalidArgumentError(
              std::string(kGradInputNames[expected.input - kNumRunInputs]) +
              " must have shape " + shape.DebugString() +
              (expected.may_be_empty ? " or be empty (zero)" : "") +
              ", got " + value.shape().DebugString()));
    }
    auto gradient_or_null = [context](int input) -> const float* {
      const Tensor& gradient = context->input(input);
      return gradient.NumElements() == 0 ? nullptr
                                         : gradient.flat<float>().data();
    };
    const float* grad_final_memory = gradient_or_null(kGradFinalMemory);
    const float* grad_final_registers = gradient_or_null(kGradFinalRegisters);
    const float* grad_halting = gradient_or_null(kGradHaltingProbabilities);
    const float* grad_memory_trace = gradient_or_null(kGradMemoryTrace);
    const float* grad_step_errors = gradient_or_null(kGradStepErrors);

    std::vector<TensorShape> input_shapes = RunInputShapes(n);
    if (!memory_gradient_) {
      input_shapes[kMemory] = TensorShape({0, n.step.memory, n.step.memory});
    }
    Tensor* gradients[kNumInputs];
    for (int input = 0; input < kNumInputs; ++input) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  input, input_shapes[input],
                                  &gradients[input]));
    }
    Tensor packed_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.restarts, n.logits}),
                                &packed_logits));
    PackLogits(context, n, packed_logits.flat<float>().data());
    // Each example's gradient of its restart's logits, summed afterwards:
    // threads never write to the same logits.
    Tensor example_grad_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.batch, n.logits}),
                                &example_grad_logits));
    auto gradient = [&gradients](int input) {
      return gradients[input]->flat<float>().data();
    };
    const Sources sources{packed_logits.flat<float>().data(),
                          running_tensor.flat<bool>().data(),
                          grad_final_memory,
                          grad_final_registers,
                          grad_halting,
                          grad_memory_trace,
                          grad_step_errors,
                          gradients,
                          example_grad_logits.flat<float>().data(),
                          memory_gradient_};
    if (n.width == 1) {
      Differentiate<float>(context, n, sources);
    } else {
      Differentiate<Lanes>(context, n, sources);
    }

    // Each restart's logits gradient: its examples' sum, unpacked.
    const int64_t examples_per_restart = n.batch / n.restarts;
    const float* example_gradients = example_grad_logits.flat<float>().data();
    auto sum_restarts = [&](int64_t begin, int64_t end) {
      std::vector<float> restart_gradient(n.logits);
      for (int64_t k = begin; k < end; ++k) {
        std::fill(restart_gradient.begin(), restart_gradient.end(), 0.0f);
        for (int64_t b = k * examples_per_restart;
             b < (k + 1) * examples_per_restart; ++b) {
          Axpy(n.logits, 1.0f, example_gradients + b * n.logits,
               restart_gradient.data());
        }
        for (int i = 0; i < kNumDistributions; ++i) {
          const int64_t width = n.command.widths[i];
          float* grad =
              gradient(kInstructionLogits + i) + k * n.step.memory * width;
          for (int64_t m = 0; m < n.step.memory; ++m) {
            std::copy_n(restart_gradient.data() + m * n.command.size +
                            n.command.offsets[i],
                        width, grad + m * width);
          }
        }
      }
    };
    ClaimParallelFor(context, n.restarts,
                     (examples_per_restart + 1) * n.logits, sum_restarts);
  }

 private:
  bool authors_halting_gradient_;
  // Whether the initial memory's gradient is an output: the memory is
  // often data (one-hot examples), whose gradient nobody reads, and it is
  // the largest, M^2 values an example.
  bool memory_gradient_;

  // What Differentiate reads and where it writes.
  struct Sources {
    const float* packed_logits;  // PackLogits
    const bool* running;         // the forward op's running
    // The output gradients, or null where absent (zero).
    const float* grad_final_memory;
    const float* grad_final_registers;
    const float* grad_halting;
    const float* grad_memory_trace;
    const float* grad_step_errors;
    Tensor* const* gradients;    // the op's eight outputs
    float* example_grad_logits;  // [B, M * N]: each example's
    bool memory_gradient;        // whether gradients[kMemory] is wanted
  };

  // Differentiates every stream, n.width = LaneTraits<V>::kWidth examples
  // at a time: all gradients but the logits', which it leaves per example.
  template <typename V>
  void Differentiate(OpKernelContext* context, const RunSizes& n,
                     const Sources& sources) const {
    // Each stream's examples' steps (running is true for the steps an
    // example ran, then false) and which lane ran which when.
    std::vector<StreamSchedule> schedules;
    schedules.reserve(n.streams);
    for (int64_t s = 0; s < n.streams; ++s) {
      const Stream stream(n, s);
      std::vector<int64_t> lengths(stream.count);
      for (int64_t i = 0; i < stream.count; ++i) {
        const bool* row = sources.running + (stream.first + i) * n.steps;
        lengths[i] = std::find(row, row + n.steps, false) - row;
      }
      schedules.emplace_back(std::move(lengths), LaneTraits<V>::kWidth);
    }
    // The threads claim the longest streams first, so that none is left
    // to start last (longest first is within 4/3 of the best split).
    std::vector<int64_t> order(n.streams);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return schedules[a].steps > schedules[b].steps;
    });
    auto differentiate_streams = [&](int64_t begin, int64_t end) {
      Scratch<V> scratch(n, sources.grad_step_errors != nullptr);
      for (int64_t claimed = begin; claimed < end; ++claimed) {
        const int64_t s = order[claimed];
        DifferentiateStream<V>(context, n, sources, Stream(n, s), schedules[s],
                               SavedRun<const V>(
                                   n,
                                   reinterpret_cast<const V*>(
                                       context->input(kForwardSaved)
                                           .flat<float>()
                                           .data()),
                                   s),
                               &scratch);
      }
    };
    ClaimParallelFor(context, n.streams, 2 * n.width * StreamCost(n),
                     differentiate_streams);
  }

  // A thread's working memory for DifferentiateStream.
  template <typename V>
  struct Scratch {
    Scratch(const RunSizes& n, bool errors)
        : step(n.step),
          grad_logits(n.logits),
          grad_commands(kCheckpointInterval * n.command.size),
          segment(new V[kCheckpointInterval * n.state]),
          after(n.state),
          before(n.state),
          final_memories(errors ? kCheckpointInterval *
                                      LaneTraits<V>::kWidth * n.memory
                                : 0),
          example_gradients(LaneTraits<V>::kWidth * n.state) {}

    StepScratch<V> step;
    std::vector<V> grad_logits;  // [M, N]: each lane's example's so far
    // The logits' gradients of the commands of the steps since the last
    // AddLogitsGradient, and those steps' instruction registers.
    std::vector<V> grad_commands;
    const V* instruction_registers[kCheckpointInterval];
    // The states after the steps from a checkpoint to the next one, each
    // with the lanes that take a new example at the next step holding its
    // initial state (the state before the first is the checkpoint; the step
    // errors' gradient reads the states after each step), uninitialised.
    std::unique_ptr<V[]> segment;
    // The gradient with respect to the state after the step being undone,
    // and the step's gradient with respect to the state before it: the
    // memory's and registers' (the state's first n.memory + n.registers
    // values, most of it) are taken in place in `after`, the rest in
    // `before` and copied back. In place, the step reads and writes one
    // array where it would read one and write another: the loops are
    // bound by those loads and stores (5-7% of the op's time at the ListK
    // benchmark's shape).
    std::vector<V> after, before;
    // The final memory ([M, M]) of an example that halts at a segment's
    // step k in lane l, at (k kWidth + l): the segment keeps its lane's next
    // example's initial state instead.
    std::vector<float> final_memories;
    // Examples' final states' gradients (each laid out as a state), one
    // for each lane that takes one up at a vector step, on their way to
    // the lanes (or, for an example halted from the start, to the
    // outputs as its initial state's).
    std::vector<float> example_gradients;
  };

  // Writes the gradient with respect to example b's final state, laid out
  // as a state (memory, registers, IR, halting), given that it ran
  // `steps_run` steps and that its state then stayed, `final_memory`: the
  // final memory's and registers' gradients, and the gradients of the
  // halting probabilities, memory trace and step errors of the steps from
  // its last one on.
  void FinalStateGradient(OpKernelContext* context, const RunSizes& n,
                          const Sources& sources, int64_t b,
                          int64_t steps_run, const float* final_memory,
                          float* gradient) const {
    std::fill_n(gradient, n.state, 0.0f);
    float* memory = gradient;
    float* registers = gradient + n.memory;
    if (sources.grad_final_memory != nullptr) {
      std::copy_n(sources.grad_final_memory + b * n.memory, n.memory, memory);
    }
    if (sources.grad_final_registers != nullptr) {
      std::copy_n(sources.grad_final_registers + b * n.registers,
                  n.registers, registers);
    }
    float grad_halting = 0.0f, grad_error = 0.0f;
    for (int64_t t = std::max<int64_t>(steps_run - 1, 0); t < n.steps; ++t) {
      const int64_t slot = b * n.steps + t;
      if (sources.grad_halting != nullptr) {
        grad_halting += sources.grad_halting[slot];
      }
      if (sources.grad_memory_trace != nullptr) {
        Axpy(n.memory, 1.0f, sources.grad_memory_trace + slot * n.memory,
             memory);
      }
      if (sources.grad_step_errors != nullptr) {
        grad_error += sources.grad_step_errors[slot];
      }
    }
    gradient[n.state - 1] = grad_halting;
    if (sources.grad_step_errors != nullptr) {
      AddMemoryErrorGradient(n, grad_error, final_memory,
                             ExampleErrorTarget(context, n, b),
                             ExampleErrorMask(context, n, b), memory);
    }
  }

  // Writes example b's initial state's gradient, its parts read by
  // `read(offset, size, row)` from a gradient laid out as a state.
  template <typename Read>
  static void WriteInitialStateGradient(const RunSizes& n,
                                        const Sources& sources, int64_t b,
                                        const Read& read) {
    auto output = [&sources](int input) {
      return sources.gradients[input]->flat<float>().data();
    };
    if (sources.memory_gradient) {
      read(0, n.memory, output(kMemory) + b * n.memory);
    }
    read(n.memory, n.registers, output(kRegisters) + b * n.registers);
    read(n.memory + n.registers, n.step.memory,
         output(kInstructionRegister) + b * n.step.memory);
    read(n.state - 1, 1, output(kHalting) + b);
  }

  // Differentiates one stream.
  template <typename V>
  void DifferentiateStream(OpKernelContext* context, const RunSizes& n,
                           const Sources& sources, const Stream& stream,
                           const StreamSchedule& schedule,
                           const SavedRun<const V>& run,
                           Scratch<V>* scratch) const {
    constexpr int kWidth = LaneTraits<V>::kWidth;
    const float* grad_halting = sources.grad_halting;
    const float* grad_memory_trace = sources.grad_memory_trace;
    const float* grad_step_errors = sources.grad_step_errors;
    // The float inputs' data, looked up once (each lookup checks the
    // tensor's type): the moves below read them example by example.
    const float* input_data[kNumInputs];
    for (int i = 0; i < kNumInputs; ++i) {
      input_data[i] = context->input(i).flat<float>().data();
    }
    auto input = [&input_data](RunInput input) { return input_data[input]; };

    // Examples halted from the start: their state's gradient passes.
    float* gradient = scratch->example_gradients.data();
    for (int64_t i = 0; i < stream.count; ++i) {
      if (schedule.lengths[i] > 0) continue;
      const int64_t b = stream.first + i;
      FinalStateGradient(context, n, sources, b, 0,
                         input(kMemory) + b * n.memory, gradient);
      WriteInitialStateGradient(
          n, sources, b, [gradient](int64_t offset, int64_t size, float* row) {
            std::copy_n(gradient + offset, size, row);
          });
      std::fill_n(sources.example_grad_logits + b * n.logits, n.logits, 0.0f);
    }

    LaneLogits<V> logits(n, sources.packed_logits);
    const std::unique_ptr<ErrorTarget<V>> errors =
        grad_step_errors != nullptr ? std::make_unique<ErrorTarget<V>>(n)
                                    : nullptr;
    std::vector<V>& grad_logits = scratch->grad_logits;
    std::fill(grad_logits.begin(), grad_logits.end(), V{});
    std::fill(scratch->after.begin(), scratch->after.end(), V{});
    std::fill(scratch->before.begin(), scratch->before.end(), V{});
    // Whether `lane` runs an example at vector step t, and which.
    auto example_at = [&](int64_t t, int lane) -> int64_t {
      return t < schedule.steps ? schedule.Example(t, lane) : -1;
    };
    auto running_at = [&](int64_t t) {
      // Lane by lane in memory, then loaded whole (see LaneFloat).
      int32_t bits[kWidth];
      for (int lane = 0; lane < kWidth; ++lane) {
        bits[lane] = example_at(t, lane) >= 0 ? -1 : 0;
      }
      Mask<V> lanes;
      std::memcpy(&lanes, bits, sizeof(lanes));
      return lanes;
    };
    const int64_t checkpoints =
        (schedule.steps + kCheckpointInterval - 1) / kCheckpointInterval;
    for (int64_t checkpoint = checkpoints - 1; checkpoint >= 0;
         --checkpoint) {
      // Replays the forward pass from the checkpoint: state_at(t - first) is
      // the state before each step t in [first, last), read in place for t
      // = first, and after step last - 1 too when there are step errors.
      const int64_t first = checkpoint * kCheckpointInterval;
      const int64_t last =
          std::min(schedule.steps, first + kCheckpointInterval);
      const int64_t replayed = errors != nullptr ? last : last - 1;
      // The state before step first + k.
      auto state_at = [&](int64_t k) -> const V* {
        return k == 0 ? run.Checkpoint(checkpoint)
                      : scratch->segment.get() + (k - 1) * n.state;
      };
      for (int64_t t = first; t < replayed; ++t) {
        const V* state_data = state_at(t - first);
        V* next_data = scratch->segment.get() + (t - first) * n.state;
        const Mask<V> running_now = running_at(t);
        const V* command = run.Record(t);
        ApplyStep(n.step, ReadState(n, state_data),
                  n.command.Read<V>(command),
                  StepValues<const V>(n.step, command + n.command.size),
                  WriteState(n, next_data));
        if (!AllLanes<V>(running_now)) {
          KeepWhere<V>(running_now, n.state, state_data, next_data);
        }
        // Lanes whose example halts here take their next one.
        const MutableState<V> next = WriteState(n, next_data);
        TakenExamples<V> taken;
        for (int lane = 0; lane < kWidth; ++lane) {
          const int64_t i = example_at(t, lane);
          if (i < 0 || example_at(t + 1, lane) == i) continue;
          if (errors != nullptr) {
            GetLane(next.memory, n.memory, lane,
                    &scratch->final_memories[((t - first) * kWidth + lane) *
                                             n.memory]);
          }
          const int64_t following = example_at(t + 1, lane);
          if (following < 0) continue;
          taken.Take(n, input, stream.first + following, lane);
        }
        taken.MoveInto(n, next);
      }
      int64_t commands = 0;  // steps in grad_commands
      for (int64_t t = last - 1; t >= first; --t) {
        MutableState<V> grad = WriteState(n, scratch->after.data());
        V grad_error = {};
        // The final states' gradients of the examples that lanes take up.
        const float* taken_up[kWidth] = {};
        for (int lane = 0; lane < kWidth; ++lane) {
          const int64_t i = example_at(t, lane);
          if (i < 0) continue;
          const int64_t b = stream.first + i;
          const int64_t step = t - schedule.start[i];
          if (step + 1 == schedule.lengths[i]) {  // the lane takes up example b
            logits.Load(b, lane);
            if (errors != nullptr) errors->Load(context, n, b, lane);
            FinalStateGradient(
                context, n, sources, b, schedule.lengths[i],
                errors != nullptr
                    ? &scratch->final_memories[((t - first) * kWidth + lane) *
                                               n.memory]
                    : nullptr,
                gradient + lane * n.state);
            taken_up[lane] = gradient + lane * n.state;
            continue;
          }
          const int64_t slot = b * n.steps + step;
          if (grad_halting != nullptr) {
            AddToLane(grad_halting + slot, 1, lane, grad.halting);
          }
          if (grad_memory_trace != nullptr) {
            AddToLane(grad_memory_trace + slot * n.memory, n.memory, lane,
                      grad.memory);
          }
          if (errors != nullptr) {
            LaneTraits<V>::Set(grad_error, lane, grad_step_errors[slot]);
          }
        }
        SetLanes(taken_up, n.state, scratch->after.data());
        if (errors != nullptr) {
          errors->AddGradient(n, grad_error,
                              ReadState(n, state_at(t + 1 - first)).memory,
                              grad.memory);
        }
        const Mask<V> running_now = running_at(t);
        const bool all_running = AllLanes<V>(running_now);
        const State<V> state = ReadState(n, state_at(t - first));
        const V* command = run.Record(t);
        V* grad_command = &scratch->grad_commands[commands * n.command.size];
        scratch->instruction_registers[commands++] =
            state.instruction_register;
        V* after = scratch->after.data();
        V* before = scratch->before.data();
        const int64_t in_place = n.memory + n.registers;
        // Idle lanes' gradient passes the step: the part taken in place is
        // kept in `before` first.
        if (!all_running) std::copy_n(after, in_place, before);
        MutableState<V> grad_state = WriteState(n, before);
        grad_state.memory = after;
        grad_state.registers = after + n.memory;
        StepBackward(n.step, state, n.command.Read<V>(command),
                     StepValues<const V>(n.step, command + n.command.size),
                     ReadState(n, after), &scratch->step, grad_state,
                     n.command.Write<V>(grad_command));
        if (authors_halting_gradient_) {
          // The authors' backward passes p's gradient on unscaled, not
          // times (1 - e_STOP) (tf_anc/machine/step.py).
          *grad_state.halting += ReadState(n, after).halting *
                                 n.command.Read<V>(command).instruction[kStop];
        }
        ControllerBackward(n, logits.For(running_now), command, running_now,
                           grad_command, grad_state.instruction_register);
        if (!all_running) {
          KeepWhere<V>(running_now, in_place, before, after);
          KeepWhere<V>(running_now, n.state - in_place, after + in_place,
                       before + in_place);
        }
        std::copy_n(before + in_place, n.state - in_place, after + in_place);
        // Lanes whose example started here hand on its gradients.
        float* logits_gradients[kWidth] = {};  // the examples' rows
        bool flushed = false;
        for (int lane = 0; lane < kWidth; ++lane) {
          const int64_t i = example_at(t, lane);
          if (i < 0 || schedule.start[i] != t) continue;
          if (!flushed) {
            AddLogitsGradient(n, commands, scratch->instruction_registers,
                              scratch->grad_commands.data(),
                              grad_logits.data());
            commands = 0;
            flushed = true;
          }
          const int64_t b = stream.first + i;
          const V* after = scratch->after.data();
          WriteInitialStateGradient(
              n, sources, b,
              [after, lane](int64_t offset, int64_t size, float* row) {
                GetLane(after + offset, size, lane, row);
              });
          logits_gradients[lane] = sources.example_grad_logits + b * n.logits;
        }
        if (flushed) TakeLanes(grad_logits.data(), n.logits, logits_gradients);
      }
      AddLogitsGradient(n, commands, scratch->instruction_registers,
                        scratch->grad_commands.data(), grad_logits.data());
    }
  }

  static constexpr const char* kGradInputNames[kNumGradInputs -
                                               kNumRunInputs] = {
      "running", "saved", "gradient of final_memory",
      "gradient of final_registers", "gradient of halting_probabilities",
      "gradient of memory_trace", "gradient of step_errors"};
};

}  // namespace

REGISTER_KERNEL_BUILDER(
    Name("AncMachineRunGrad").Device(::tensorflow::DEVICE_CPU),
    AncMachineRunGradOp);

}  // namespace tf_anc
