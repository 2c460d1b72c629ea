// One step of the differentiable machine (spec section 2) as two fused CPU
// ops: `AncMachineStep` (the forward step) and `AncMachineStepGrad` (its
// hand-derived backward pass). The reference is tf_anc/machine/step.py's
// `machine_step`; the tests hold both to the same values and gradients.
//
// Every value is a distribution over [0, M). Per example, the step costs
// O(M^2 + R M): the ADD/SUB convolutions, READ and WRITE are the M^2 terms,
// MIN/MAX use cumulative sums. The batch is split over TF's CPU thread pool.

#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

namespace tf_anc {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// Instruction indices, in tf_anc/isa.py's order.
enum Instruction {
  kStop, kZero, kInc, kAdd, kSub, kDec, kMin, kMax, kRead, kWrite, kJez,
  kNumInstructions
};

// The step's eight inputs, in op order.
enum Input {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionInput,
  kFirstArgument, kSecondArgument, kOutput, kNumInputs
};
constexpr const char* kInputNames[kNumInputs] = {
    "memory", "registers", "instruction_register", "halting",
    "instruction", "first_argument", "second_argument", "output"};

// ---------------------------------------------------------------------------
// Shapes.

// Checks the eight step inputs against each other; sets batch, M and R.
absl::Status InferStepInputShapes(InferenceContext* c, DimensionHandle* batch,
                                  DimensionHandle* memory_size,
                                  DimensionHandle* num_registers) {
  ShapeHandle memory, registers, instruction_register, halting, instruction;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kMemory), 3, &memory));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kRegisters), 3, &registers));
  TF_RETURN_IF_ERROR(
      c->WithRank(c->input(kInstructionRegister), 2, &instruction_register));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kHalting), 1, &halting));
  TF_RETURN_IF_ERROR(
      c->WithRank(c->input(kInstructionInput), 2, &instruction));
  *batch = c->Dim(memory, 0);
  *memory_size = c->Dim(memory, 1);
  *num_registers = c->Dim(registers, 1);
  TF_RETURN_IF_ERROR(c->Merge(*memory_size, c->Dim(memory, 2), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(registers, 0), batch));
  TF_RETURN_IF_ERROR(
      c->Merge(*memory_size, c->Dim(registers, 2), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(instruction_register, 0), batch));
  TF_RETURN_IF_ERROR(
      c->Merge(*memory_size, c->Dim(instruction_register, 1), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(halting, 0), batch));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(instruction, 0), batch));
  DimensionHandle unused;
  TF_RETURN_IF_ERROR(
      c->WithValue(c->Dim(instruction, 1), kNumInstructions, &unused));
  for (int input : {kFirstArgument, kSecondArgument, kOutput}) {
    ShapeHandle selection;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 2, &selection));
    TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(selection, 0), batch));
    TF_RETURN_IF_ERROR(
        c->Merge(*num_registers, c->Dim(selection, 1), num_registers));
  }
  return absl::OkStatus();
}

// Sets outputs [first, first + 4) to the shapes of the machine state.
void SetStateShapes(InferenceContext* c, int first, DimensionHandle batch,
                    DimensionHandle memory_size,
                    DimensionHandle num_registers) {
  c->set_output(first + 0, c->MakeShape({batch, memory_size, memory_size}));
  c->set_output(first + 1, c->MakeShape({batch, num_registers, memory_size}));
  c->set_output(first + 2, c->MakeShape({batch, memory_size}));
  c->set_output(first + 3, c->MakeShape({batch}));
}

// The input shapes the kernels expect, for batch B, memory M, registers R.
std::vector<TensorShape> StepInputShapes(int64_t batch, int64_t memory_size,
                                         int64_t num_registers) {
  return {TensorShape({batch, memory_size, memory_size}),
          TensorShape({batch, num_registers, memory_size}),
          TensorShape({batch, memory_size}),
          TensorShape({batch}),
          TensorShape({batch, kNumInstructions}),
          TensorShape({batch, num_registers}),
          TensorShape({batch, num_registers}),
          TensorShape({batch, num_registers})};
}

// Validates the eight step inputs at run time (shape functions only see
// static shapes); reads B, M and R from memory and registers.
absl::Status ValidateStepInputs(OpKernelContext* context, int64_t* batch,
                                int64_t* memory_size,
                                int64_t* num_registers) {
  const Tensor& memory = context->input(kMemory);
  const Tensor& registers = context->input(kRegisters);
  if (memory.dims() != 3 || registers.dims() != 3) {
    return absl::InvalidArgumentError(
        "memory and registers must have rank 3, got shapes " +
        memory.shape().DebugString() + " and " +
        registers.shape().DebugString());
  }
  *batch = memory.dim_size(0);
  *memory_size = memory.dim_size(1);
  *num_registers = registers.dim_size(1);
  if (*memory_size == 0) {
    return absl::InvalidArgumentError("memory size M must be positive");
  }
  const std::vector<TensorShape> expected =
      StepInputShapes(*batch, *memory_size, *num_registers);
  for (int input = 0; input < kNumInputs; ++input) {
    if (context->input(input).shape() != expected[input]) {
      return absl::InvalidArgumentError(
          std::string(kInputNames[input]) + " must have shape " +
          expected[input].DebugString() + " (batch " + std::to_string(*batch) +
          ", M " + std::to_string(*memory_size) + ", R " +
          std::to_string(*num_registers) + "), got " +
          context->input(input).shape().DebugString());
    }
  }
  return absl::OkStatus();
}

// Runs `work(begin, end)` over examples [0, batch) on the CPU thread pool;
// Shard keeps small batches on one thread when a step is cheap.
template <typename Work>
void ForEachExample(OpKernelContext* context, int64_t batch,
                    int64_t memory_size, int64_t num_registers,
                    const Work& work) {
  // Rough cycles per example: the M^2 loops dominate.
  const int64_t cost = 20 * memory_size * memory_size +
                       10 * num_registers * memory_size;
  const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
  ::tensorflow::Shard(threads.num_threads, threads.workers, batch, cost, work);
}

// ---------------------------------------------------------------------------
// Per-example arithmetic. Pointers address one example's slice.

struct Sizes {
  int64_t memory;     // M
  int64_t registers;  // R
};

// selected[m] = sum_r selection[r] registers[r, m].
void SelectRegister(const Sizes& n, const float* registers,
                    const float* selection, float* selected) {
  for (int64_t m = 0; m < n.memory; ++m) selected[m] = 0.0f;
  for (int64_t r = 0; r < n.registers; ++r) {
    const float weight = selection[r];
    const float* row = registers + r * n.memory;
    for (int64_t m = 0; m < n.memory; ++m) selected[m] += weight * row[m];
  }
}

// The result distribution of each instruction that has one, for x and y.
struct AluResults {
  explicit AluResults(int64_t memory_size)
      : add(memory_size), sub(memory_size), minimum(memory_size),
        maximum(memory_size), read(memory_size), x_above(memory_size),
        x_below(memory_size), y_at_or_above(memory_size),
        y_at_or_below(memory_size) {}

  std::vector<float> add, sub, minimum, maximum, read;
  // Cumulative sums behind MIN and MAX, kept for the backward pass.
  std::vector<float> x_above, x_below, y_at_or_above, y_at_or_below;
};

void ComputeAluResults(const Sizes& n, const float* x, const float* y,
                       const float* memory, AluResults* results) {
  const int64_t size = n.memory;
  for (int64_t c = 0; c < size; ++c) {
    results->add[c] = results->sub[c] = results->read[c] = 0.0f;
  }
  // ADD: P(x + y = c) = sum_{i + j = c mod M} x_i y_j; SUB: i - j = c.
  for (int64_t i = 0; i < size; ++i) {
    const float x_i = x[i];
    int64_t sum = i, difference = i;  // (i + j) mod M and (i - j) mod M
    for (int64_t j = 0; j < size; ++j) {
      const float product = x_i * y[j];
      results->add[sum] += product;
      results->sub[difference] += product;
      if (++sum == size) sum = 0;
      if (--difference < 0) difference = size - 1;
    }
    // READ: P(mem[x] = c) = sum_i x_i memory[i, c] (the memory before WRITE).
    const float* row = memory + i * size;
    for (int64_t c = 0; c < size; ++c) results->read[c] += x_i * row[c];
  }
  // MIN: P(min = c) = x_c P(y >= c) + P(x > c) y_c; MAX symmetrically.
  float x_suffix = 0.0f, y_suffix = 0.0f;
  for (int64_t c = size - 1; c >= 0; --c) {
    results->x_above[c] = x_suffix;
    x_suffix += x[c];
    y_suffix += y[c];
    results->y_at_or_above[c] = y_suffix;
  }
  float x_prefix = 0.0f, y_prefix = 0.0f;
  for (int64_t c = 0; c < size; ++c) {
    results->x_below[c] = x_prefix;
    x_prefix += x[c];
    y_prefix += y[c];
    results->y_at_or_below[c] = y_prefix;
  }
  for (int64_t c = 0; c < size; ++c) {
    results->minimum[c] =
        x[c] * results->y_at_or_above[c] + results->x_above[c] * y[c];
    results->maximum[c] =
        x[c] * results->y_at_or_below[c] + results->x_below[c] * y[c];
  }
}

// out = sum_k e_k out_k. STOP, ZERO, WRITE and JEZ all yield the value 0.
void MixAluResults(const Sizes& n, const float* e, const float* x,
                   const AluResults& results, float* out) {
  const int64_t size = n.memory;
  for (int64_t c = 0; c < size; ++c) {
    const float incremented = x[c == 0 ? size - 1 : c - 1];
    const float decremented = x[c == size - 1 ? 0 : c + 1];
    out[c] = e[kInc] * incremented + e[kAdd] * results.add[c] +
             e[kSub] * results.sub[c] + e[kDec] * decremented +
             e[kMin] * results.minimum[c] + e[kMax] * results.maximum[c] +
             e[kRead] * results.read[c];
  }
  out[0] += e[kStop] + e[kZero] + e[kWrite] + e[kJez];
}

// ---------------------------------------------------------------------------
// Forward op.

// The eight step inputs as raw float pointers (both kernels read them).
struct StepInputs {
  explicit StepInputs(OpKernelContext* context)
      : memory(Data(context, kMemory)),
        registers(Data(context, kRegisters)),
        instruction_register(Data(context, kInstructionRegister)),
        halting(Data(context, kHalting)),
        instruction(Data(context, kInstructionInput)),
        first(Data(context, kFirstArgument)),
        second(Data(context, kSecondArgument)),
        output(Data(context, kOutput)) {}

  static const float* Data(OpKernelContext* context, int input) {
    return context->input(input).flat<float>().data();
  }

  const float* memory;
  const float* registers;
  const float* instruction_register;
  const float* halting;
  const float* instruction;
  const float* first;
  const float* second;
  const float* output;
};

class AncMachineStepOp : public OpKernel {
 public:
  explicit AncMachineStepOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    int64_t batch, memory_size, num_registers;
    OP_REQUIRES_OK(context, ValidateStepInputs(context, &batch, &memory_size,
                                               &num_registers));
    const std::vector<TensorShape> shapes =
        StepInputShapes(batch, memory_size, num_registers);
    Tensor* outputs[4];
    for (int output = 0; output < 4; ++output) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  output, shapes[output], &outputs[output]));
    }
    const Sizes n{memory_size, num_registers};
    const StepInputs in(context);
    float* next_memory = outputs[0]->flat<float>().data();
    float* next_registers = outputs[1]->flat<float>().data();
    float* next_instruction_register = outputs[2]->flat<float>().data();
    float* next_halting = outputs[3]->flat<float>().data();
    const int64_t cells = memory_size * memory_size;
    const int64_t register_values = num_registers * memory_size;

    auto step = [&](int64_t begin, int64_t end) {
      std::vector<float> x(memory_size), y(memory_size), out(memory_size);
      AluResults results(memory_size);
      for (int64_t b = begin; b < end; ++b) {
        const float* e = in.instruction + b * kNumInstructions;
        const float* example_memory = in.memory + b * cells;
        const float* example_registers = in.registers + b * register_values;
        const float* ir = in.instruction_register + b * memory_size;
        const float* o = in.output + b * num_registers;
        SelectRegister(n, example_registers, in.first + b * num_registers,
                       x.data());
        SelectRegister(n, example_registers, in.second + b * num_registers,
                       y.data());
        ComputeAluResults(n, x.data(), y.data(), example_memory, &results);
        MixAluResults(n, e, x.data(), results, out.data());

        // WRITE: row i keeps 1 - x_i of itself and takes x_i of y.
        float* written = next_memory + b * cells;
        for (int64_t i = 0; i < memory_size; ++i) {
          const float write = e[kWrite] * x[i];
          const float* row = example_memory + i * memory_size;
          float* next_row = written + i * memory_size;
          for (int64_t c = 0; c < memory_size; ++c) {
            next_row[c] = (1.0f - write) * row[c] + write * y[c];
          }
        }
        float* next_example_registers = next_registers + b * register_values;
        for (int64_t r = 0; r < num_registers; ++r) {
          const float* row = example_registers + r * memory_size;
          float* next_row = next_example_registers + r * memory_size;
          for (int64_t c = 0; c < memory_size; ++c) {
            next_row[c] = (1.0f - o[r]) * row[c] + o[r] * out[c];
          }
        }
        // JEZ jumps to y with the probability that it runs and x == 0;
        // otherwise the IR moves on by one.
        const float jump = e[kJez] * x[0];
        float* next_ir = next_instruction_register + b * memory_size;
        for (int64_t c = 0; c < memory_size; ++c) {
          const float previous = ir[c == 0 ? memory_size - 1 : c - 1];
          next_ir[c] = jump * y[c] + (1.0f - jump) * previous;
        }
        next_halting[b] = in.halting[b] + (1.0f - in.halting[b]) * e[kStop];
      }
    };
    ForEachExample(context, batch, memory_size, num_registers, step);
  }
};

// ---------------------------------------------------------------------------
// Gradient op: the eight input gradients from the four output gradients.
// It recomputes x, y and the ALU results instead of taking them as inputs.

class AncMachineStepGradOp : public OpKernel {
 public:
  explicit AncMachineStepGradOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    int64_t batch, memory_size, num_registers;
    OP_REQUIRES_OK(context, ValidateStepInputs(context, &batch, &memory_size,
                                               &num_registers));
    const std::vector<TensorShape> shapes =
        StepInputShapes(batch, memory_size, num_registers);
    for (int output = 0; output < 4; ++output) {
      const Tensor& gradient = context->input(kNumInputs + output);
      OP_REQUIRES(context, gradient.shape() == shapes[output],
                  absl::InvalidArgumentError(
                      std::string("gradient of ") + kInputNames[output] +
                      " must have shape " + shapes[output].DebugString() +
                      ", got " + gradient.shape().DebugString()));
    }
    Tensor* gradients[kNumInputs];
    for (int input = 0; input < kNumInputs; ++input) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  input, shapes[input], &gradients[input]));
    }
    const Sizes n{memory_size, num_registers};
    const StepInputs in(context);
    const float* grad_next_memory =
        context->input(kNumInputs + 0).flat<float>().data();
    const float* grad_next_registers =
        context->input(kNumInputs + 1).flat<float>().data();
    const float* grad_next_ir =
        context->input(kNumInputs + 2).flat<float>().data();
    const float* grad_next_halting =
        context->input(kNumInputs + 3).flat<float>().data();
    float* grad_memory = gradients[kMemory]->flat<float>().data();
    float* grad_registers = gradients[kRegisters]->flat<float>().data();
    float* grad_ir = gradients[kInstructionRegister]->flat<float>().data();
    float* grad_halting = gradients[kHalting]->flat<float>().data();
    float* grad_instruction =
        gradients[kInstructionInput]->flat<float>().data();
    float* grad_first = gradients[kFirstArgument]->flat<float>().data();
    float* grad_second = gradients[kSecondArgument]->flat<float>().data();
    float* grad_output = gradients[kOutput]->flat<float>().data();
    const int64_t size = memory_size;
    const int64_t cells = size * size;
    const int64_t register_values = num_registers * size;

    auto backward = [&](int64_t begin, int64_t end) {
      std::vector<float> x(size), y(size), out(size), grad_x(size),
          grad_y(size), grad_out(size);
      AluResults results(size);
      for (int64_t b = begin; b < end; ++b) {
        const float* e = in.instruction + b * kNumInstructions;
        const float* example_memory = in.memory + b * cells;
        const float* example_registers = in.registers + b * register_values;
        const float* ir = in.instruction_register + b * size;
        const float* a = in.first + b * num_registers;
        const float* b_selection = in.second + b * num_registers;
        const float* o = in.output + b * num_registers;
        const float* g_memory = grad_next_memory + b * cells;
        const float* g_registers = grad_next_registers + b * register_values;
        const float* g_ir = grad_next_ir + b * size;
        const float g_halting = grad_next_halting[b];
        float* ge = grad_instruction + b * kNumInstructions;
        float* example_grad_registers = grad_registers + b * register_values;

        SelectRegister(n, example_registers, a, x.data());
        SelectRegister(n, example_registers, b_selection, y.data());
        ComputeAluResults(n, x.data(), y.data(), example_memory, &results);
        MixAluResults(n, e, x.data(), results, out.data());
        for (int64_t c = 0; c < size; ++c) grad_x[c] = grad_y[c] = 0.0f;
        for (int k = 0; k < kNumInstructions; ++k) ge[k] = 0.0f;

        // Halting: p' = p + (1 - p) e_STOP.
        grad_halting[b] = g_halting * (1.0f - e[kStop]);
        ge[kStop] += g_halting * (1.0f - in.halting[b]);

        // IR: ir'[c] = jump y[c] + (1 - jump) ir[c - 1], jump = e_JEZ x[0].
        const float jump = e[kJez] * x[0];
        float grad_jump = 0.0f;
        float* example_grad_ir = grad_ir + b * size;
        for (int64_t c = 0; c < size; ++c) {
          const float previous = ir[c == 0 ? size - 1 : c - 1];
          grad_jump += g_ir[c] * (y[c] - previous);
          grad_y[c] += jump * g_ir[c];
          example_grad_ir[c] = (1.0f - jump) * g_ir[c == size - 1 ? 0 : c + 1];
        }
        ge[kJez] += grad_jump * x[0];
        grad_x[0] += grad_jump * e[kJez];

        // Registers: reg'[r] = (1 - o_r) reg[r] + o_r out.
        for (int64_t c = 0; c < size; ++c) grad_out[c] = 0.0f;
        for (int64_t r = 0; r < num_registers; ++r) {
          const float* row = example_registers + r * size;
          const float* g_row = g_registers + r * size;
          float* grad_row = example_grad_registers + r * size;
          float grad_o = 0.0f;
          for (int64_t c = 0; c < size; ++c) {
            grad_o += g_row[c] * (out[c] - row[c]);
            grad_out[c] += o[r] * g_row[c];
            grad_row[c] = (1.0f - o[r]) * g_row[c];
          }
          grad_output[b * num_registers + r] = grad_o;
        }

        // Memory: mem'[i] = (1 - e_WRITE x_i) mem[i] + e_WRITE x_i y, and
        // READ's out = sum_i e_READ x_i mem[i].
        float* example_grad_memory = grad_memory + b * cells;
        for (int64_t i = 0; i < size; ++i) {
          const float write = e[kWrite] * x[i];
          const float read_weight = e[kRead] * x[i];
          const float* row = example_memory + i * size;
          const float* g_row = g_memory + i * size;
          float* grad_row = example_grad_memory + i * size;
          float grad_write = 0.0f, grad_read = 0.0f;
          for (int64_t c = 0; c < size; ++c) {
            grad_write += g_row[c] * (y[c] - row[c]);
            grad_read += grad_out[c] * row[c];
            grad_y[c] += write * g_row[c];
            grad_row[c] = (1.0f - write) * g_row[c] + read_weight * grad_out[c];
          }
          grad_x[i] += e[kWrite] * grad_write + e[kRead] * grad_read;
          ge[kWrite] += x[i] * grad_write;
        }

        // ALU: de_k = <grad_out, out_k>, then back through each out_k.
        float dot_inc = 0.0f, dot_dec = 0.0f, dot_add = 0.0f, dot_sub = 0.0f,
              dot_min = 0.0f, dot_max = 0.0f, dot_read = 0.0f;
        for (int64_t c = 0; c < size; ++c) {
          const int64_t before = c == 0 ? size - 1 : c - 1;
          const int64_t after = c == size - 1 ? 0 : c + 1;
          dot_inc += grad_out[c] * x[before];
          dot_dec += grad_out[c] * x[after];
          dot_add += grad_out[c] * results.add[c];
          dot_sub += grad_out[c] * results.sub[c];
          dot_min += grad_out[c] * results.minimum[c];
          dot_max += grad_out[c] * results.maximum[c];
          dot_read += grad_out[c] * results.read[c];
          // INC: out[c] = x[c - 1]; DEC: out[c] = x[c + 1].
          grad_x[c] += e[kInc] * grad_out[after] + e[kDec] * grad_out[before];
        }
        const float zero_weight = grad_out[0];
        ge[kStop] += zero_weight;
        ge[kZero] += zero_weight;
        ge[kWrite] += zero_weight;
        ge[kJez] += zero_weight;
        ge[kInc] += dot_inc;
        ge[kDec] += dot_dec;
        ge[kAdd] += dot_add;
        ge[kSub] += dot_sub;
        ge[kMin] += dot_min;
        ge[kMax] += dot_max;
        ge[kRead] += dot_read;

        // ADD and SUB: x_i y_j goes to (i + j) and (i - j) mod M.
        for (int64_t i = 0; i < size; ++i) {
          int64_t sum = i, difference = i;
          float grad_x_i = 0.0f;
          const float x_i = x[i];
          for (int64_t j = 0; j < size; ++j) {
            const float weight = e[kAdd] * grad_out[sum] +
                                 e[kSub] * grad_out[difference];
            grad_x_i += weight * y[j];
            grad_y[j] += weight * x_i;
            if (++sum == size) sum = 0;
            if (--difference < 0) difference = size - 1;
          }
          grad_x[i] += grad_x_i;
        }

        // MIN = x_c Y>=[c] + X>[c] y_c and MAX = x_c Y<=[c] + X<[c] y_c,
        // where the cumulative sums spread their gradient over prefixes
        // (MIN) and suffixes (MAX) of c.
        float min_x_prefix = 0.0f, min_y_prefix = 0.0f;
        for (int64_t c = 0; c < size; ++c) {
          const float g_min = e[kMin] * grad_out[c];
          const float g_max = e[kMax] * grad_out[c];
          grad_x[c] += g_min * results.y_at_or_above[c] +
                       g_max * results.y_at_or_below[c] + min_y_prefix;
          min_x_prefix += g_min * x[c];  // Y>=[c'] for c' <= c holds y_c
          grad_y[c] += g_min * results.x_above[c] +
                       g_max * results.x_below[c] + min_x_prefix;
          min_y_prefix += g_min * y[c];  // X>[c'] for c' < c holds x_c
        }
        float max_x_suffix = 0.0f, max_y_suffix = 0.0f;
        for (int64_t c = size - 1; c >= 0; --c) {
          const float g_max = e[kMax] * grad_out[c];
          grad_x[c] += max_y_suffix;
          max_x_suffix += g_max * x[c];  // Y<=[c'] for c' >= c holds y_c
          grad_y[c] += max_x_suffix;
          max_y_suffix += g_max * y[c];  // X<[c'] for c' > c holds x_c
        }

        // Argument selection: x = sum_r a_r reg[r], y = sum_r b_r reg[r].
        for (int64_t r = 0; r < num_registers; ++r) {
          const float* row = example_registers + r * size;
          float* grad_row = example_grad_registers + r * size;
          float grad_a = 0.0f, grad_b = 0.0f;
          for (int64_t c = 0; c < size; ++c) {
            grad_a += grad_x[c] * row[c];
            grad_b += grad_y[c] * row[c];
            grad_row[c] += a[r] * grad_x[c] + b_selection[r] * grad_y[c];
          }
          grad_first[b * num_registers + r] = grad_a;
          grad_second[b * num_registers + r] = grad_b;
        }
      }
    };
    ForEachExample(context, batch, memory_size, num_registers, backward);
  }
};

}  // namespace

REGISTER_OP("AncMachineStep")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction: float")
    .Input("first_argument: float")
    .Input("second_argument: float")
    .Input("output: float")
    .Output("next_memory: float")
    .Output("next_registers: float")
    .Output("next_instruction_register: float")
    .Output("next_halting: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferStepInputShapes(c, &batch, &memory_size, &num_registers));
      SetStateShapes(c, 0, batch, memory_size, num_registers);
      return absl::OkStatus();
    })
    .Doc(R"doc(
One step of the differentiable machine: tf_anc.machine.step.machine_step.
)doc");

REGISTER_OP("AncMachineStepGrad")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction: float")
    .Input("first_argument: float")
    .Input("second_argument: float")
    .Input("output: float")
    .Input("grad_next_memory: float")
    .Input("grad_next_registers: float")
    .Input("grad_next_instruction_register: float")
    .Input("grad_next_halting: float")
    .Output("grad_memory: float")
    .Output("grad_registers: float")
    .Output("grad_instruction_register: float")
    .Output("grad_halting: float")
    .Output("grad_instruction: float")
    .Output("grad_first_argument: float")
    .Output("grad_second_argument: float")
    .Output("grad_output: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferStepInputShapes(c, &batch, &memory_size, &num_registers));
      for (int output = 0; output < kNumInputs; ++output) {
        c->set_output(output, c->input(output));
      }
      for (int output = 0; output < 4; ++output) {
        ShapeHandle unused;
        TF_RETURN_IF_ERROR(c->Merge(c->input(kNumInputs + output),
                                    c->output(output), &unused));
      }
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncMachineStep with respect to its eight inputs.
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncMachineStep").Device(::tensorflow::DEVICE_CPU), AncMachineStepOp);
REGISTER_KERNEL_BUILDER(
    Name("AncMachineStepGrad").Device(::tensorflow::DEVICE_CPU),
    AncMachineStepGradOp);

}  // namespace tf_anc
