// AncMachineRunGrad's kernel: the hand-derived backward pass of
// AncMachineRun (machine_run.h). Each group is undone from its last step to
// its first, a checkpoint's worth of steps at a time: the states of those
// steps are replayed from the checkpoint and the saved step records, then
// each step's and controller's gradient is taken in reverse.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
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
  }

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
        RunOutputShapes(n, true, true);
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

    const std::vector<TensorShape> input_shapes = RunInputShapes(n);
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
                          example_grad_logits.flat<float>().data()};
    if (n.width == 1) {
      Differentiate<float>(context, n, sources);
    } else {
      Differentiate<Lanes>(context, n, sources);
    }

    // Each restart's logits gradient: its examples' sum, unpacked.
    const int64_t examples_per_restart = n.batch / n.restarts;
    std::vector<float> restart_gradient(n.logits);
    for (int64_t k = 0; k < n.restarts; ++k) {
      std::fill(restart_gradient.begin(), restart_gradient.end(), 0.0f);
      for (int64_t b = k * examples_per_restart;
           b < (k + 1) * examples_per_restart; ++b) {
        Axpy(n.logits, 1.0f,
             example_grad_logits.flat<float>().data() + b * n.logits,
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
  }

 private:
  bool authors_halting_gradient_;

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
  };

  // Differentiates every group, n.width = LaneTraits<V>::kWidth examples at
  // a time: all gradients but the logits', which it leaves per example.
  template <typename V>
  void Differentiate(OpKernelContext* context, const RunSizes& n,
                     const Sources& sources) const {
    const V* saved = reinterpret_cast<const V*>(
        context->input(kForwardSaved).flat<float>().data());
    const bool* running = sources.running;
    const float* grad_final_memory = sources.grad_final_memory;
    const float* grad_final_registers = sources.grad_final_registers;
    const float* grad_halting = sources.grad_halting;
    const float* grad_memory_trace = sources.grad_memory_trace;
    const float* grad_step_errors = sources.grad_step_errors;
    auto gradient = [&sources](int input) {
      return sources.gradients[input]->flat<float>().data();
    };

    auto differentiate_groups = [&](int64_t begin, int64_t end) {
      StepScratch<V> scratch(n.step);
      std::vector<V> logits;  // GatherLogits's, when the lanes' differ
      std::vector<V> grad_logits(n.logits);
      // The logits' gradients of the commands of a segment's steps (the
      // steps that ran), and those steps' instruction registers, for
      // AddLogitsGradient.
      std::vector<V> grad_commands(kCheckpointInterval * n.command.size);
      const V* instruction_registers[kCheckpointInterval];
      // The states after the steps from a checkpoint to the next one (the
      // state before the first is the checkpoint; the step errors' gradient
      // reads the states after each step), uninitialised.
      const std::unique_ptr<V[]> segment(
          new V[kCheckpointInterval * n.state]);
      // The gradients with respect to the state after the step being undone
      // and before it; swapped after each step.
      std::vector<V> after(n.state), before(n.state);
      for (int64_t g = begin; g < end; ++g) {
        const Group<V> group(n, g);
        const SavedRun<const V> run(n, saved, g);
        const GroupLogits<V> group_logits =
            GatherLogits(n, group, sources.packed_logits, &logits);
        const std::unique_ptr<const ErrorTarget<V>> errors =
            grad_step_errors != nullptr
                ? std::make_unique<const ErrorTarget<V>>(context, n, group)
                : nullptr;
        std::fill(grad_logits.begin(), grad_logits.end(), V{});
        std::fill(after.begin(), after.end(), V{});
        MutableState<V> grad = WriteState(n, after.data());
        if (grad_final_memory != nullptr) {
          AddGathered(group.Rows(grad_final_memory, n.memory), n.memory,
                      grad.memory);
        }
        if (grad_final_registers != nullptr) {
          AddGathered(group.Rows(grad_final_registers, n.registers),
                      n.registers, grad.registers);
        }
        auto running_at = [&](int64_t t) {
          // Lane by lane in memory, then loaded whole (see LaneFloat).
          int32_t bits[LaneTraits<V>::kWidth] = {};
          for (int lane = 0; lane < group.count; ++lane) {
            bits[lane] = running[(group.first + lane) * n.steps + t] ? -1 : 0;
          }
          Mask<V> lanes;
          std::memcpy(&lanes, bits, sizeof(lanes));
          return lanes;
        };
        for (int64_t checkpoint = n.checkpoints - 1; checkpoint >= 0;
             --checkpoint) {
          // Replays the forward pass from the checkpoint: state_at(t -
          // first) is the state before each step t in [first, last), read
          // in place for t = first, and after step last - 1 too when there
          // are step errors.
          const int64_t first = checkpoint * kCheckpointInterval;
          const int64_t last = std::min(n.steps, first + kCheckpointInterval);
          const int64_t replayed = errors != nullptr ? last : last - 1;
          // The state before step first + k.
          auto state_at = [&](int64_t k) -> const V* {
            return k == 0 ? run.Checkpoint(checkpoint)
                          : segment.get() + (k - 1) * n.state;
          };
          for (int64_t t = first; t < replayed; ++t) {
            const V* state_data = state_at(t - first);
            V* next_data = segment.get() + (t - first) * n.state;
            const Mask<V> running_now = running_at(t);
            if (AnyLane<V>(running_now)) {
              const V* command = run.Record(t);
              ApplyStep(n.step, ReadState(n, state_data),
                        n.command.Read<V>(command),
                        StepValues<const V>(n.step,
                                                command + n.command.size),
                        WriteState(n, next_data));
              if (!AllLanes<V>(running_now)) {
                KeepWhere<V>(running_now, n.state, state_data, next_data);
              }
            } else {
              std::copy_n(state_data, n.state, next_data);
            }
          }
          int64_t commands = 0;  // steps in grad_commands
          for (int64_t t = last - 1; t >= first; --t) {
            grad = WriteState(n, after.data());
            if (grad_halting != nullptr) {
              AddGathered(group.Rows(grad_halting, n.steps, t), 1,
                          grad.halting);
            }
            if (grad_memory_trace != nullptr) {
              AddGathered(group.Rows(grad_memory_trace, n.steps * n.memory,
                                     t * n.memory),
                          n.memory, grad.memory);
            }
            if (errors != nullptr) {
              V grad_error = {};
              AddGathered(group.Rows(grad_step_errors, n.steps, t), 1,
                          &grad_error);
              errors->AddGradient(
                  n, grad_error,
                  ReadState(n, state_at(t + 1 - first)).memory,
                  grad.memory);
            }
            const Mask<V> running_now = running_at(t);
            if (!AnyLane<V>(running_now)) continue;  // the gradient passes
            const State<V> state = ReadState(n, state_at(t - first));
            const V* command = run.Record(t);
            V* grad_command = &grad_commands[commands * n.command.size];
            instruction_registers[commands++] = state.instruction_register;
            StepBackward(n.step, state, n.command.Read<V>(command),
                         StepValues<const V>(n.step,
                                                 command + n.command.size),
                         ReadState(n, after.data()), &scratch,
                         WriteState(n, before.data()),
                         n.command.Write<V>(grad_command));
            if (authors_halting_gradient_) {
              // The authors' backward passes p's gradient on unscaled, not
              // times (1 - e_STOP) (tf_anc/machine/step.py).
              *WriteState(n, before.data()).halting +=
                  ReadState(n, after.data()).halting *
                  n.command.Read<V>(command).instruction[kStop];
            }
            ControllerBackward(
                n, group_logits, command, running_now, grad_command,
                WriteState(n, before.data()).instruction_register);
            if (!AllLanes<V>(running_now)) {  // halted lanes: gradient passes
              KeepWhere<V>(running_now, n.state, after.data(), before.data());
            }
            std::swap(after, before);
          }
          AddLogitsGradient(n, commands, instruction_registers,
                            grad_commands.data(), grad_logits.data());
        }
        const State<V> initial_gradient = ReadState(n, after.data());
        Scatter(initial_gradient.memory, n.memory,
                group.Rows(gradient(kMemory), n.memory));
        Scatter(initial_gradient.registers, n.registers,
                group.Rows(gradient(kRegisters), n.registers));
        Scatter(initial_gradient.instruction_register, n.step.memory,
                group.Rows(gradient(kInstructionRegister), n.step.memory));
        Scatter(&after[n.state - 1], 1, group.Rows(gradient(kHalting), 1));
        Scatter(grad_logits.data(), n.logits,
                group.Rows(sources.example_grad_logits, n.logits));
      }
    };
    ClaimParallelFor(context, n.groups, 2 * n.width * GroupCost(n),
                     differentiate_groups);
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
