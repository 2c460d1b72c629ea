// AncMachineRun's kernel: runs each group of examples through all its
// steps (machine_run.h), saving what the gradient kernel reads.

#include <algorithm>
#include <cstdint>
#include <memory>
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

// The group's initial state, gathered from the op's first four inputs.
template <typename V>
void GatherInitialState(OpKernelContext* context, const RunSizes& n,
                        const Group<V>& group, V* state) {
  const MutableState<V> initial = WriteState(n, state);
  Gather(group.InputRows(context, kMemory, n.memory), n.memory,
         initial.memory);
  Gather(group.InputRows(context, kRegisters, n.registers), n.registers,
         initial.registers);
  Gather(group.InputRows(context, kInstructionRegister, n.step.memory),
         n.step.memory, initial.instruction_register);
  Gather(group.InputRows(context, kHalting, 1), 1, initial.halting);
}

class AncMachineRunOp : public OpKernel {
 public:
  explicit AncMachineRunOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("max_steps", &max_steps_));
    OP_REQUIRES_OK(context, context->GetAttr("eta_stop", &eta_stop_));
    OP_REQUIRES_OK(context, context->GetAttr("trace_memory", &trace_memory_));
    OP_REQUIRES_OK(context, context->GetAttr("trace_errors", &trace_errors_));
  }

  void Compute(OpKernelContext* context) override {
    RunSizes n(0, 1, 0, {0, 0});
    OP_REQUIRES_OK(context,
                   ValidateRunInputs(context, max_steps_, trace_errors_, &n));
    const std::vector<TensorShape> shapes =
        RunOutputShapes(n, trace_memory_, trace_errors_);
    Tensor* outputs[kNumOutputs];
    for (int output = 0; output < kNumOutputs; ++output) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  output, shapes[output], &outputs[output]));
    }
    Tensor packed_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.restarts, n.logits}),
                                &packed_logits));
    PackLogits(context, n, packed_logits.flat<float>().data());
    if (n.width == 1) {
      Run<float>(context, n, packed_logits.flat<float>().data(), outputs);
    } else {
      Run<Lanes>(context, n, packed_logits.flat<float>().data(), outputs);
    }
  }

 private:
  // Runs every group, n.width = LaneTraits<V>::kWidth examples at a time.
  template <typename V>
  void Run(OpKernelContext* context, const RunSizes& n,
           const float* packed_logits, Tensor* const* outputs) const {
    auto data = [outputs](RunOutput output) {
      return outputs[output]->flat<float>().data();
    };
    V* saved = reinterpret_cast<V*>(data(kSaved));
    float* halting = data(kHaltingProbabilities);
    float* memory_trace = data(kMemoryTrace);
    float* step_errors = data(kStepErrors);
    bool* running = outputs[kRunning]->flat<bool>().data();
    int32_t* steps = outputs[kSteps]->flat<int32_t>().data();
    const V eta_stop = V{} + eta_stop_;

    auto run_groups = [&](int64_t begin, int64_t end) {
      StepScratch<V> scratch(n.step);
      std::vector<V> logits;  // GatherLogits's, when the lanes' differ
      // Two states that the steps alternate between, but for the states
      // that start a checkpoint, written to it directly.
      const std::unique_ptr<V[]> buffers(new V[2 * n.state]);
      for (int64_t g = begin; g < end; ++g) {
        const Group<V> group(n, g);
        const SavedRun<V> run(n, saved, g);
        V* state_data = run.Checkpoint(0);
        GatherInitialState(context, n, group, state_data);
        const GroupLogits<V> group_logits =
            GatherLogits(n, group, packed_logits, &logits);
        const std::unique_ptr<const ErrorTarget<V>> errors =
            trace_errors_ ? std::make_unique<const ErrorTarget<V>>(
                                context, n, group)
                          : nullptr;
        Mask<V> steps_taken = {};
        for (int64_t t = 0; t < n.steps; ++t) {
          const bool checkpoint_next =
              (t + 1) % kCheckpointInterval == 0 && t + 1 < n.steps;
          V* next_data =
              checkpoint_next
                  ? run.Checkpoint((t + 1) / kCheckpointInterval)
                  : buffers.get() + (state_data == buffers.get() ? n.state : 0);
          const State<V> state = ReadState(n, state_data);
          const Mask<V> running_now =
              group.active & LaneTraits<V>::Less(state.halting, eta_stop);
          V* command = run.Record(t);
          V* values = command + n.command.size;
          if (AnyLane<V>(running_now)) {
            ControllerForward(n, group_logits, state.instruction_register,
                              command);
            ComputeStepValues(n.step, state, n.command.Read<V>(command),
                              &scratch, StepValues<V>(n.step, values));
            ApplyStep(n.step, state, n.command.Read<V>(command),
                      StepValues<const V>(n.step, values),
                      WriteState(n, next_data));
            if (!AllLanes<V>(running_now)) {  // halted lanes stay frozen
              KeepWhere<V>(running_now, n.state, state_data, next_data);
            }
            state_data = next_data;
          } else {  // all halted: the state stays; nothing reads the record
            std::fill_n(command, n.step_record, V{});
            if (checkpoint_next) {
              std::copy_n(state_data, n.state, next_data);
              state_data = next_data;
            }
          }
          steps_taken -= running_now;  // true is -1
          const State<V> next = ReadState(n, state_data);
          for (int lane = 0; lane < group.count; ++lane) {
            const int64_t slot = (group.first + lane) * n.steps + t;
            halting[slot] = LaneTraits<V>::Get(next.halting, lane);
            running[slot] = LaneTraits<V>::Get(running_now, lane) != 0;
          }
          if (trace_memory_) {
            Scatter(next.memory, n.memory,
                    group.Rows(memory_trace, n.steps * n.memory,
                               t * n.memory));
          }
          if (errors != nullptr) {
            const V error = errors->Error(n, next.memory);
            Scatter(&error, 1, group.Rows(step_errors, n.steps, t));
          }
        }
        const State<V> last = ReadState(n, state_data);
        Scatter(last.memory, n.memory, group.Rows(data(kFinalMemory),
                                                  n.memory));
        Scatter(last.registers, n.registers,
                group.Rows(data(kFinalRegisters), n.registers));
        for (int lane = 0; lane < group.count; ++lane) {
          steps[group.first + lane] = LaneTraits<V>::Get(steps_taken, lane);
        }
      }
    };
    ClaimParallelFor(context, n.groups, n.width * GroupCost(n), run_groups);
  }

  int64_t max_steps_;
  float eta_stop_;
  bool trace_memory_;
  bool trace_errors_;
};

}  // namespace

REGISTER_KERNEL_BUILDER(
    Name("AncMachineRun").Device(::tensorflow::DEVICE_CPU), AncMachineRunOp);

}  // namespace tf_anc
