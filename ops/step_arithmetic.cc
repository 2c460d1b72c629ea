#include "ops/step_arithmetic.h"

namespace tf_anc {
namespace {

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

// x, y, each instruction's result and their mixture `out` for one step.
void ComputeAlu(const Sizes& n, const State& state, const Command& command,
                StepScratch* s) {
  const int64_t size = n.memory;
  SelectRegister(n, state.registers, command.first_argument, s->x.data());
  SelectRegister(n, state.registers, command.second_argument, s->y.data());
  const float* x = s->x.data();
  const float* y = s->y.data();
  for (int64_t c = 0; c < size; ++c) s->add[c] = s->sub[c] = s->read[c] = 0.0f;
  // ADD: P(x + y = c) = sum_{i + j = c mod M} x_i y_j; SUB: i - j = c.
  for (int64_t i = 0; i < size; ++i) {
    const float x_i = x[i];
    int64_t sum = i, difference = i;  // (i + j) mod M and (i - j) mod M
    for (int64_t j = 0; j < size; ++j) {
      const float product = x_i * y[j];
      s->add[sum] += product;
      s->sub[difference] += product;
      if (++sum == size) sum = 0;
      if (--difference < 0) difference = size - 1;
    }
    // READ: P(mem[x] = c) = sum_i x_i memory[i, c] (the memory before WRITE).
    const float* row = state.memory + i * size;
    for (int64_t c = 0; c < size; ++c) s->read[c] += x_i * row[c];
  }
  // MIN: P(min = c) = x_c P(y >= c) + P(x > c) y_c; MAX symmetrically.
  float x_suffix = 0.0f, y_suffix = 0.0f;
  for (int64_t c = size - 1; c >= 0; --c) {
    s->x_above[c] = x_suffix;
    x_suffix += x[c];
    y_suffix += y[c];
    s->y_at_or_above[c] = y_suffix;
  }
  float x_prefix = 0.0f, y_prefix = 0.0f;
  for (int64_t c = 0; c < size; ++c) {
    s->x_below[c] = x_prefix;
    x_prefix += x[c];
    y_prefix += y[c];
    s->y_at_or_below[c] = y_prefix;
  }
  for (int64_t c = 0; c < size; ++c) {
    s->minimum[c] = x[c] * s->y_at_or_above[c] + s->x_above[c] * y[c];
    s->maximum[c] = x[c] * s->y_at_or_below[c] + s->x_below[c] * y[c];
  }
  // out = sum_k e_k out_k. STOP, ZERO, WRITE and JEZ all yield the value 0.
  const float* e = command.instruction;
  for (int64_t c = 0; c < size; ++c) {
    const float incremented = x[c == 0 ? size - 1 : c - 1];
    const float decremented = x[c == size - 1 ? 0 : c + 1];
    s->out[c] = e[kInc] * incremented + e[kAdd] * s->add[c] +
                e[kSub] * s->sub[c] + e[kDec] * decremented +
                e[kMin] * s->minimum[c] + e[kMax] * s->maximum[c] +
                e[kRead] * s->read[c];
  }
  s->out[0] += e[kStop] + e[kZero] + e[kWrite] + e[kJez];
}

}  // namespace

StepScratch::StepScratch(const Sizes& sizes)
    : x(sizes.memory), y(sizes.memory), out(sizes.memory),
      add(sizes.memory), sub(sizes.memory), minimum(sizes.memory),
      maximum(sizes.memory), read(sizes.memory), x_above(sizes.memory),
      x_below(sizes.memory), y_at_or_above(sizes.memory),
      y_at_or_below(sizes.memory), grad_x(sizes.memory),
      grad_y(sizes.memory), grad_out(sizes.memory) {}

void StepForward(const Sizes& n, const State& state, const Command& command,
                 StepScratch* scratch, const MutableState& next) {
  const int64_t size = n.memory;
  ComputeAlu(n, state, command, scratch);
  const float* e = command.instruction;
  const float* x = scratch->x.data();
  const float* y = scratch->y.data();
  const float* out = scratch->out.data();
  // WRITE: row i keeps 1 - x_i of itself and takes x_i of y.
  for (int64_t i = 0; i < size; ++i) {
    const float write = e[kWrite] * x[i];
    const float* row = state.memory + i * size;
    float* next_row = next.memory + i * size;
    for (int64_t c = 0; c < size; ++c) {
      next_row[c] = (1.0f - write) * row[c] + write * y[c];
    }
  }
  const float* o = command.output;
  for (int64_t r = 0; r < n.registers; ++r) {
    const float* row = state.registers + r * size;
    float* next_row = next.registers + r * size;
    for (int64_t c = 0; c < size; ++c) {
      next_row[c] = (1.0f - o[r]) * row[c] + o[r] * out[c];
    }
  }
  // JEZ jumps to y with the probability that it runs and x == 0; otherwise
  // the IR moves on by one.
  const float jump = e[kJez] * x[0];
  for (int64_t c = 0; c < size; ++c) {
    const float previous = state.instruction_register[c == 0 ? size - 1
                                                              : c - 1];
    next.instruction_register[c] = jump * y[c] + (1.0f - jump) * previous;
  }
  *next.halting = state.halting + (1.0f - state.halting) * e[kStop];
}

void StepBackward(const Sizes& n, const State& state, const Command& command,
                  const State& grad_next, StepScratch* s,
                  const MutableState& grad_state,
                  const MutableCommand& grad_command) {
  const int64_t size = n.memory;
  ComputeAlu(n, state, command, s);
  const float* e = command.instruction;
  const float* a = command.first_argument;
  const float* b = command.second_argument;
  const float* o = command.output;
  const float* x = s->x.data();
  const float* y = s->y.data();
  const float* out = s->out.data();
  float* grad_x = s->grad_x.data();
  float* grad_y = s->grad_y.data();
  float* grad_out = s->grad_out.data();
  float* ge = grad_command.instruction;
  for (int64_t c = 0; c < size; ++c) grad_x[c] = grad_y[c] = 0.0f;
  for (int k = 0; k < kNumInstructions; ++k) ge[k] = 0.0f;

  // Halting: p' = p + (1 - p) e_STOP.
  *grad_state.halting = grad_next.halting * (1.0f - e[kStop]);
  ge[kStop] += grad_next.halting * (1.0f - state.halting);

  // IR: ir'[c] = jump y[c] + (1 - jump) ir[c - 1], jump = e_JEZ x[0].
  const float jump = e[kJez] * x[0];
  float grad_jump = 0.0f;
  const float* g_ir = grad_next.instruction_register;
  for (int64_t c = 0; c < size; ++c) {
    const float previous = state.instruction_register[c == 0 ? size - 1
                                                              : c - 1];
    grad_jump += g_ir[c] * (y[c] - previous);
    grad_y[c] += jump * g_ir[c];
    grad_state.instruction_register[c] =
        (1.0f - jump) * g_ir[c == size - 1 ? 0 : c + 1];
  }
  ge[kJez] += grad_jump * x[0];
  grad_x[0] += grad_jump * e[kJez];

  // Registers: reg'[r] = (1 - o_r) reg[r] + o_r out.
  for (int64_t c = 0; c < size; ++c) grad_out[c] = 0.0f;
  for (int64_t r = 0; r < n.registers; ++r) {
    const float* row = state.registers + r * size;
    const float* g_row = grad_next.registers + r * size;
    float* grad_row = grad_state.registers + r * size;
    float grad_o = 0.0f;
    for (int64_t c = 0; c < size; ++c) {
      grad_o += g_row[c] * (out[c] - row[c]);
      grad_out[c] += o[r] * g_row[c];
      grad_row[c] = (1.0f - o[r]) * g_row[c];
    }
    grad_command.output[r] = grad_o;
  }

  // Memory: mem'[i] = (1 - e_WRITE x_i) mem[i] + e_WRITE x_i y, and READ's
  // out = sum_i e_READ x_i mem[i].
  for (int64_t i = 0; i < size; ++i) {
    const float write = e[kWrite] * x[i];
    const float read_weight = e[kRead] * x[i];
    const float* row = state.memory + i * size;
    const float* g_row = grad_next.memory + i * size;
    float* grad_row = grad_state.memory + i * size;
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
    dot_add += grad_out[c] * s->add[c];
    dot_sub += grad_out[c] * s->sub[c];
    dot_min += grad_out[c] * s->minimum[c];
    dot_max += grad_out[c] * s->maximum[c];
    dot_read += grad_out[c] * s->read[c];
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
      const float weight =
          e[kAdd] * grad_out[sum] + e[kSub] * grad_out[difference];
      grad_x_i += weight * y[j];
      grad_y[j] += weight * x_i;
      if (++sum == size) sum = 0;
      if (--difference < 0) difference = size - 1;
    }
    grad_x[i] += grad_x_i;
  }

  // MIN = x_c Y>=[c] + X>[c] y_c and MAX = x_c Y<=[c] + X<[c] y_c, where the
  // cumulative sums spread their gradient over prefixes (MIN) and suffixes
  // (MAX) of c.
  float min_x_prefix = 0.0f, min_y_prefix = 0.0f;
  for (int64_t c = 0; c < size; ++c) {
    const float g_min = e[kMin] * grad_out[c];
    const float g_max = e[kMax] * grad_out[c];
    grad_x[c] += g_min * s->y_at_or_above[c] + g_max * s->y_at_or_below[c] +
                 min_y_prefix;
    min_x_prefix += g_min * x[c];  // Y>=[c'] for c' <= c holds y_c
    grad_y[c] += g_min * s->x_above[c] + g_max * s->x_below[c] + min_x_prefix;
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
  for (int64_t r = 0; r < n.registers; ++r) {
    const float* row = state.registers + r * size;
    float* grad_row = grad_state.registers + r * size;
    float grad_a = 0.0f, grad_b = 0.0f;
    for (int64_t c = 0; c < size; ++c) {
      grad_a += grad_x[c] * row[c];
      grad_b += grad_y[c] * row[c];
      grad_row[c] += a[r] * grad_x[c] + b[r] * grad_y[c];
    }
    grad_command.first_argument[r] = grad_a;
    grad_command.second_argument[r] = grad_b;
  }
}

}  // namespace tf_anc
