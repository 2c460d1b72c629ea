// AncMachineRun's kernel: runs each stream of examples through their steps
// (machine_run.h), saving what the gradient kernel reads.

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

class AncMachineRunOp : public OpKernel {
 public:
  explicit AncMachineRunOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("max_steps", &max_steps_));
    OP_REQUIRES_OK(context, context->GetAttr("eta_stop", &eta_stop_));
    OP_REQUIRES_OK(context, context->GetAttr("trace_memory", &trace_memory_));
    OP_REQUIRES_OK(context, context->GetAttr("trace_errors", &trace_errors_));
    OP_REQUIRES_OK(context,
                   context->GetAttr("halting_mixture", &halting_mixture_));
  }

  // Costly, but it splits its work over threads itself: run inline by the
  // executor, which would otherwise hand an expensive op that becomes
  // ready beside cheap ones to another thread (a wake-up of 40-100 us on a
  // virtual machine, and the thread it leaves spins beside this op's).
  bool IsExpensive() override { return false; }

  void Compute(OpKernelContext* context) override {
    RunSizes n(0, 1, 0, {0, 0});
    OP_REQUIRES_OK(context,
                   ValidateRunInputs(context, max_steps_, trace_errors_, &n));
    const std::vector<TensorShape> shapes =
        RunOutputShapes(n, trace_memory_, trace_errors_, halting_mixture_);
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
  // Runs every stream, n.width = LaneTraits<V>::kWidth examples at a time.
  template <typename V>
  void Run(OpKernelContext* context, const RunSizes& n,
           const float* packed_logits, Tensor* const* outputs) const {
    auto run_streams = [&](int64_t begin, int64_t end) {
      StepScratch<V> scratch(n.step);
      // The state the steps update in place (it stays in the L1 cache,
      // where two alternating states would not), and a copy of it kept
      // while some lanes are idle.
      const std::unique_ptr<V[]> buffers(new V[2 * n.state]);
      for (int64_t s = begin; s < end; ++s) {
        RunStream<V>(context, n, packed_logits, outputs, Stream(n, s),
                     SavedRun<V>(n, reinterpret_cast<V*>(
                                        outputs[kSaved]->flat<float>().data()),
                                 s),
                     &scratch, buffers.get());
      }
    };
    ClaimParallelFor(context, n.streams, n.width * StreamCost(n),
                     run_streams);
  }

  // Runs one stream's examples, each lane taking the next example as soon
  // as its own halts (or has run T steps), until none is left.
  template <typename V>
  void RunStream(OpKernelContext* context, const RunSizes& n,
                 const float* packed_logits, Tensor* const* outputs,
                 const Stream& stream, const SavedRun<V>& run,
                 StepScratch<V>* scratch, V* buffers) const {
    constexpr int kWidth = LaneTraits<V>::kWidth;
    // The float outputs' data, as the inputs' below.
    float* output_data[kNumOutputs] = {};
    for (int i = 0; i < kNumOutputs; ++i) {
      if (outputs[i]->dtype() == ::tensorflow::DT_FLOAT) {
        output_data[i] = outputs[i]->flat<float>().data();
      }
    }
    auto output = [&output_data](RunOutput output) {
      return output_data[output];
    };
    // The float inputs' data, looked up once (each lookup checks the
    // tensor's type): the moves below read them example by example.
    const float* input_data[kNumInputs];
    for (int i = 0; i < kNumInputs; ++i) {
      input_data[i] = context->input(i).flat<float>().data();
    }
    auto input = [&input_data](RunInput input) { return input_data[input]; };
    float* halting = output(kHaltingProbabilities);
    float* memory_trace = output(kMemoryTrace);
    float* step_errors = output(kStepErrors);
    float* memory_at_halting = output(kMemoryAtHalting);
    bool* running = outputs[kRunning]->flat<bool>().data();
    int32_t* steps = outputs[kSteps]->flat<int32_t>().data();

    // Example b's outputs once it has run `steps_run` steps and halted (or
    // run T), its final memory and registers written: from then on its
    // halting probability, memory and error stay.
    auto finish = [&](int64_t b, int64_t steps_run, float halting_probability,
                      float error) {
      steps[b] = static_cast<int32_t>(steps_run);
      const int64_t first_slot = b * n.steps + steps_run;
      const int64_t rest = n.steps - steps_run;
      std::fill_n(halting + first_slot, rest, halting_probability);
      std::fill_n(running + first_slot, rest, false);
      if (trace_errors_) std::fill_n(step_errors + first_slot, rest, error);
      if (trace_memory_) {
        const float* memory = output(kFinalMemory) + b * n.memory;
        for (int64_t slot = first_slot; slot < first_slot + rest; ++slot) {
          std::copy_n(memory, n.memory, memory_trace + slot * n.memory);
        }
      }
    };

    LaneLogits<V> logits(n, packed_logits);
    const std::unique_ptr<ErrorTarget<V>> errors =
        trace_errors_ ? std::make_unique<ErrorTarget<V>>(n) : nullptr;
    // With halting_mixture: each lane's sum so far of its example's
    // memories weighted by p_t - p_{t-1}, and its p_{t-1} (0 before its
    // first step).
    const std::unique_ptr<V[]> mixture(
        halting_mixture_ ? new V[n.memory]() : nullptr);
    V previous_halting = {};
    int64_t lane_example[kWidth];  // each lane's example, or -1
    int64_t lane_step[kWidth];     // the step it is at
    Mask<V> active = {};           // the lanes with an example
    int64_t next_example = stream.first;
    TakenExamples<V> taken;
    // Gives `lane` the stream's next example that runs at least a step
    // (in `taken`), finishing on the way those halted from the start;
    // leaves the lane idle when none is left.
    auto take_next = [&](int lane) {
      while (next_example < stream.first + stream.count) {
        const int64_t b = next_example++;
        const float* memory = input(kMemory) + b * n.memory;
        const float* registers = input(kRegisters) + b * n.registers;
        const float halting_probability = input(kHalting)[b];
        if (!(halting_probability < eta_stop_)) {
          std::copy_n(memory, n.memory, output(kFinalMemory) + b * n.memory);
          std::copy_n(registers, n.registers,
                      output(kFinalRegisters) + b * n.registers);
          // Its one step's weight is p_1 - 0 = p, the final memory's 1 - p.
          if (halting_mixture_) {
            std::copy_n(memory, n.memory, memory_at_halting + b * n.memory);
          }
          finish(b, 0, halting_probability,
                 trace_errors_ ? MemoryError(n, memory,
                                             ExampleErrorTarget(context, n, b),
                                             ExampleErrorMask(context, n, b))
                               : 0.0f);
          continue;
        }
        taken.Take(n, input, b, lane);
        logits.Load(b, lane);
        if (errors != nullptr) errors->Load(context, n, b, lane);
        lane_example[lane] = b;
        lane_step[lane] = 0;
        LaneTraits<V>::Set(active, lane, -1);
        return;
      }
      lane_example[lane] = -1;
      LaneTraits<V>::Set(active, lane, 0);
    };

    V* const state_data = buffers;
    V* const idle_copy = buffers + n.state;
    std::fill_n(state_data, n.state, V{});  // idle lanes stay zero
    for (int lane = 0; lane < kWidth; ++lane) take_next(lane);
    taken.MoveInto(n, WriteState(n, state_data));
    std::copy_n(state_data, n.state, run.Checkpoint(0));
    // Vector step t; the lanes' examples are all running. Within
    // n.stream_steps: the k-th example a stream's lanes take starts by
    // vector step floor(k / width) T (of the width examples before it, one
    // is the last of its lane, or a lane has none of them, and the example
    // before those started by floor(k / width - 1) T), so it ends by
    // ceil(count / width) T.
    for (int64_t t = 0; AnyLane<V>(active); ++t) {
      const State<V> state = ReadState(n, state_data);
      V* command = run.Record(t);
      V* values = command + n.command.size;
      ControllerForward(n, logits.For(active), state.instruction_register,
                        command);
      ComputeStepValues(n.step, state, n.command.Read<V>(command), scratch,
                        StepValues<V>(n.step, values));
      const bool some_idle = !AllLanes<V>(active);
      if (some_idle) std::copy_n(state_data, n.state, idle_copy);
      ApplyStep(n.step, state, n.command.Read<V>(command),
                StepValues<const V>(n.step, values),
                WriteState(n, state_data));
      if (some_idle) {  // idle lanes stay as they are
        KeepWhere<V>(active, n.state, idle_copy, state_data);
      }
      const State<V> next = ReadState(n, state_data);
      if (mixture != nullptr) {
        const V weight = active ? next.halting - previous_halting : V{};
        for (int64_t e = 0; e < n.memory; ++e) {
          mixture[e] += weight * next.memory[e];
        }
        previous_halting = next.halting;
      }
      const V error =
          errors != nullptr ? errors->Error(n, next.memory) : V{};
      // The final memories and registers of the lanes' examples that
      // finish here, moved out together.
      float* final_memory_rows[kWidth] = {};
      float* final_register_rows[kWidth] = {};
      for (int lane = 0; lane < kWidth; ++lane) {
        const int64_t b = lane_example[lane];
        if (b < 0) continue;
        const int64_t slot = b * n.steps + lane_step[lane];
        const float halting_probability =
            LaneTraits<V>::Get(next.halting, lane);
        halting[slot] = halting_probability;
        running[slot] = true;
        if (trace_memory_) {
          GetLane(next.memory, n.memory, lane, memory_trace + slot * n.memory);
        }
        if (trace_errors_) {
          step_errors[slot] = LaneTraits<V>::Get(error, lane);
        }
        if (halting_probability < eta_stop_ && lane_step[lane] + 1 < n.steps) {
          ++lane_step[lane];
          continue;
        }
        final_memory_rows[lane] = output(kFinalMemory) + b * n.memory;
        final_register_rows[lane] = output(kFinalRegisters) + b * n.registers;
      }
      GetLanes(next.memory, n.memory, final_memory_rows);
      GetLanes(next.registers, n.registers, final_register_rows);
      for (int lane = 0; lane < kWidth; ++lane) {
        if (final_memory_rows[lane] == nullptr) continue;
        const int64_t b = lane_example[lane];
        const float halting_probability =
            LaneTraits<V>::Get(next.halting, lane);
        if (mixture != nullptr) {
          float* mixed = memory_at_halting + b * n.memory;
          TakeLane(mixture.get(), n.memory, lane, mixed);
          const float* final_memory = output(kFinalMemory) + b * n.memory;
          for (int64_t e = 0; e < n.memory; ++e) {
            mixed[e] += (1.0f - halting_probability) * final_memory[e];
          }
          LaneTraits<V>::Set(previous_halting, lane, 0.0f);
        }
        finish(b, lane_step[lane] + 1, halting_probability,
               LaneTraits<V>::Get(error, lane));
        take_next(lane);
      }
      taken.MoveInto(n, WriteState(n, state_data));
      if ((t + 1) % kCheckpointInterval == 0 && t + 1 < n.stream_steps) {
        std::copy_n(state_data, n.state,
                    run.Checkpoint((t + 1) / kCheckpointInterval));
      }
    }
  }

  int64_t max_steps_;
  float eta_stop_;
  bool trace_memory_;
  bool trace_errors_;
  bool halting_mixture_;
};

}  // namespace

REGISTER_KERNEL_BUILDER(
    Name("AncMachineRun").Device(::tensorflow::DEVICE_CPU), AncMachineRunOp);

}  // namespace tf_anc
