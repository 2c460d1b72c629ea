#include "step_arithmetic.h"

#include <algorithm>

#include "vector_ops.h"

namespace tf_anc {
namespace {

// selected = sum_r selection[r] registers[r], rescaled to sum to 1 (to 0
// where it sums to 0, e.g. in an idle lane), as step.py's select_argument;
// writes the reciprocal of the mixture's mass (0 for 0) to
// `mass_inverse`.
template <typename V>
void SelectArgument(const Sizes& n, const V* registers, const V* selection,
                    V* selected, V* mass_inverse) {
  StridedDots(n.memory, n.registers, selection, registers, n.memory,
              selected, /*assign=*/true);
  V mass = {};
  for (int64_t c = 0; c < n.memory; ++c) mass += selected[c];
  *mass_inverse = InverseOrZero(mass);
  for (int64_t c = 0; c < n.memory; ++c) selected[c] *= *mass_inverse;
}

// From the gradient with respect to a selected argument (SelectArgument),
// that with respect to the register mixture before its rescaling.
template <typename V>
void RescaleArgumentGradient(int64_t size, const V* selected,
                             const V& mass_inverse, V* grad) {
  const V projection = Dot(size, static_cast<const V*>(grad), selected);
  for (int64_t c = 0; c < size; ++c) {
    grad[c] = mass_inverse * (grad[c] - projection);
  }
}

// ADD's and SUB's weights: z[k] = e_ADD y[k] + e_SUB y[-k mod M], doubled
// cyclically (z_doubled[k] = z_doubled[k + M] = z[k] for k in [0, M)).
// P(x + y = c) = sum_i x_i y[c - i] and P(x - y = c) = sum_i x_i y[i - c]
// (x - y = x + (-y), -y distributed as y reversed), so e_ADD ADD + e_SUB
// SUB = sum_i x_i z[c - i]: one convolution, not two, whose cyclic index
// c - i the doubled array makes a plain one.
template <typename V>
void ConvolutionWeights(int64_t size, const V* y, const V& add_weight,
                        const V& sub_weight, V* z_doubled) {
  for (int64_t k = 0; k < size; ++k) {
    z_doubled[k] = z_doubled[k + size] =
        add_weight * y[k] + sub_weight * y[k == 0 ? 0 : size - k];
  }
}

// padded[c + 1] = values[c mod M] for c in [-1, M].
template <typename V>
void PadCyclically(int64_t size, const V* values, V* padded) {
  padded[0] = values[size - 1];
  std::copy_n(values, size, padded + 1);
  padded[size + 1] = values[0];
}

// MIN: P(min = c) = x_c P(y >= c) + P(x > c) y_c; MAX: x_c P(y <= c) +
// P(x < c) y_c. The suffix sums, x_above[c] = P(x > c) and
// y_at_or_above[c] = P(y >= c), are kept in scratch; the loops that use
// them take the prefix sums as they go, c upwards.
template <typename V>
void SuffixSums(int64_t size, const V* x, const V* y, StepScratch<V>* s) {
  V x_suffix = {}, y_suffix = {};
  for (int64_t c = size - 1; c >= 0; --c) {
    s->x_above[c] = x_suffix;
    x_suffix += x[c];
    y_suffix += y[c];
    s->y_at_or_above[c] = y_suffix;
  }
}

// The loops over a group's rows (V = Lanes) take kRows rows at a time, so
// that the values they share are loaded once for them (Load keeps them in
// registers); each row's sums run in the same order as a row at a time.
// V = float runs them a row at a time (kRows = 1), vectorised over c.
constexpr int kRowBlock = 4;

// next[r] = (1 - w_r) rows[r] + w_r value, w_r = scale weights[r], for the
// rows [r, r + kRows) of [*, size] arrays: WRITE's memory rows (scale
// e_WRITE, weights x) and the registers (scale 1, weights o). `next` may be
// `rows` (a step in place): each value is read before it is written.
template <int kRows, typename V>
void MixRows(int64_t size, int64_t r, V scale, const V* weights,
             const V* rows, const V* value, V* next) {
  V weight[kRows], keep[kRows];
#pragma GCC unroll 4
  for (int k = 0; k < kRows; ++k) {
    weight[k] = scale * weights[k];
    keep[k] = 1.0f - weight[k];
  }
  const V* in = rows + r * size;
  const V* __restrict v = value;
  V* out = next + r * size;
  for (int64_t c = 0; c < size; ++c) {
    const V value_c = Load(v, c);
#pragma GCC unroll 4
    for (int k = 0; k < kRows; ++k) {
      out[k * size + c] = keep[k] * in[k * size + c] + weight[k] * value_c;
    }
  }
}

// MixRows over all `count` rows, scale weights[r] for row r.
template <typename V>
void MixAllRows(int64_t size, int64_t count, V scale, const V* weights,
                const V* rows, const V* value, V* next) {
  int64_t r = 0;
  if constexpr (kIsLanes<V>) {
    for (; r + kRowBlock <= count; r += kRowBlock) {
      MixRows<kRowBlock>(size, r, scale, weights + r, rows, value, next);
    }
  }
  for (; r < count; ++r) {
    MixRows<1>(size, r, scale, weights + r, rows, value, next);
  }
}

// The gradient through reg'[r] = (1 - o_r) reg[r] + o_r out with respect
// to out and o, for rows [r, r + kRows): grad_out += o_r grad_next[r],
// grad_o[r] = <grad_next[r], out - reg[r]>. (That with respect to reg[r]
// waits for SelectionRowsBackward, which writes it in the same pass as its
// own part.)
template <int kRows, typename V>
void RegisterRowsBackward(int64_t size, int64_t r, const V* o,
                          const V* registers, const V* grad_next,
                          const V* out, V* grad_out, V* grad_o) {
  V o_r[kRows], grad_o_r[kRows] = {};
#pragma GCC unroll 4
  for (int k = 0; k < kRows; ++k) o_r[k] = o[r + k];
  const V* __restrict row = registers + r * size;
  const V* __restrict g_row = grad_next + r * size;
  const V* __restrict out_values = out;
  V* __restrict grad_out_values = grad_out;
#pragma omp simd reduction(+ : grad_o_r[:kRows])
  for (int64_t c = 0; c < size; ++c) {
    const V out_c = Load(out_values, c);
    V grad_out_c = grad_out_values[c];
#pragma GCC unroll 4
    for (int k = 0; k < kRows; ++k) {
      const V g_c = Load(g_row, k * size + c);
      grad_o_r[k] += g_c * (out_c - row[k * size + c]);
      grad_out_c += o_r[k] * g_c;
    }
    grad_out_values[c] = grad_out_c;
  }
#pragma GCC unroll 4
  for (int k = 0; k < kRows; ++k) grad_o[r + k] = grad_o_r[k];
}

// The registers' gradient, for rows [r, r + kRows): through reg'[r] = (1 -
// o_r) reg[r] + o_r out, (1 - o_r) grad_next[r], and through x's and y's
// selection before their rescaling (x = sum_r a_r reg[r], y alike with b),
// a_r grad_x + b_r grad_y; and grad_a[r] = <grad_x, reg[r]>, grad_b[r] =
// <grad_y, reg[r]>.
template <int kRows, typename V>
void SelectionRowsBackward(int64_t size, int64_t r, const V* a, const V* b,
                           const V* o, const V* registers,
                           const V* grad_next, const V* grad_x,
                           const V* grad_y, V* grad_registers, V* grad_a,
                           V* grad_b) {
  V a_r[kRows], b_r[kRows], keep[kRows], grad_a_r[kRows] = {},
      grad_b_r[kRows] = {};
#pragma GCC unroll 4
  for (int k = 0; k < kRows; ++k) {
    a_r[k] = a[r + k];
    b_r[k] = b[r + k];
    keep[k] = 1.0f - o[r + k];
  }
  const V* __restrict row = registers + r * size;
  // g_row and grad_row may be one array (StepBackward in place).
  const V* g_row = grad_next + r * size;
  const V* __restrict gx = grad_x;
  const V* __restrict gy = grad_y;
  V* grad_row = grad_registers + r * size;
#pragma omp simd reduction(+ : grad_a_r[:kRows], grad_b_r[:kRows])
  for (int64_t c = 0; c < size; ++c) {
    const V grad_x_c = Load(gx, c);
    const V grad_y_c = Load(gy, c);
#pragma GCC unroll 4
    for (int k = 0; k < kRows; ++k) {
      const V row_c = Load(row, k * size + c);
      grad_a_r[k] += grad_x_c * row_c;
      grad_b_r[k] += grad_y_c * row_c;
      grad_row[k * size + c] = keep[k] * g_row[k * size + c] +
                               (a_r[k] * grad_x_c + b_r[k] * grad_y_c);
    }
  }
#pragma GCC unroll 4
  for (int k = 0; k < kRows; ++k) {
    grad_a[r + k] = grad_a_r[k];
    grad_b[r + k] = grad_b_r[k];
  }
}

}  // namespace

template <typename V>
StepScratch<V>::StepScratch(const Sizes& n)
    : z_doubled(2 * n.memory), x_above(n.memory), y_at_or_above(n.memory),
      x_padded(n.memory + 2), grad_out_doubled(2 * n.memory),
      grad_x(n.memory), grad_y(n.memory), grad_z(n.memory),
      grad_out(n.memory) {}

template <typename V>
void ComputeStepValues(const Sizes& n, const State<V>& state,
                       const Command<V>& command, StepScratch<V>* s,
                       const StepValues<V>& v) {
  const int64_t size = n.memory;
  SelectArgument(n, state.registers, command.first_argument, v.x,
                 v.x_mass_inverse);
  SelectArgument(n, state.registers, command.second_argument, v.y,
                 v.y_mass_inverse);
  // out = sum_k e_k out_k: ADD's and SUB's part, one convolution
  // (ConvolutionWeights), then the others'. READ: P(mem[x] = c) = sum_i
  // x_i memory[i, c] (the memory before WRITE); INC's out[c] = x[c - 1],
  // DEC's x[c + 1]; STOP, ZERO, WRITE and JEZ all yield the value 0.
  const V* e = command.instruction;
  ConvolutionWeights(size, v.y, e[kAdd], e[kSub], s->z_doubled.data());
  SlidingDots<-1>(size, size, v.x, s->z_doubled.data() + size, v.out,
                  /*assign=*/true);
  StridedDots(size, size, v.x, state.memory, size, v.read, /*assign=*/true);
  SuffixSums(size, v.x, v.y, s);
  const V* x_padded = s->x_padded.data();
  PadCyclically(size, v.x, s->x_padded.data());
  V x_below = {}, y_at_or_below = {};
  for (int64_t c = 0; c < size; ++c) {
    y_at_or_below += v.y[c];
    const V minimum = v.x[c] * s->y_at_or_above[c] + s->x_above[c] * v.y[c];
    const V maximum = v.x[c] * y_at_or_below + x_below * v.y[c];
    x_below += v.x[c];
    v.out[c] += e[kInc] * x_padded[c] + e[kDec] * x_padded[c + 2] +
                e[kMin] * minimum + e[kMax] * maximum + e[kRead] * v.read[c];
  }
  v.out[0] += e[kStop] + e[kZero] + e[kWrite] + e[kJez];
}

template <typename V>
void ApplyStep(const Sizes& n, const State<V>& state,
               const Command<V>& command, const StepValues<const V>& v,
               const MutableState<V>& next) {
  const int64_t size = n.memory;
  const V* e = command.instruction;
  // WRITE: row i keeps 1 - e_WRITE x_i of itself and takes e_WRITE x_i of y.
  MixAllRows(size, size, e[kWrite], v.x, state.memory, v.y, next.memory);
  MixAllRows(size, n.registers, V{} + 1.0f, command.output, state.registers,
             v.out, next.registers);
  // JEZ jumps to y with the probability that it runs and x == 0; otherwise
  // the IR moves on by one: ir'[c] = jump y[c] + (1 - jump) ir[c - 1], from
  // the last cell down, so that in place each ir[c - 1] is read unchanged.
  const V jump = e[kJez] * v.x[0];
  const V* ir = state.instruction_register;
  const V last = ir[size - 1];
  for (int64_t c = size - 1; c >= 1; --c) {
    next.instruction_register[c] = jump * v.y[c] + (1.0f - jump) * ir[c - 1];
  }
  next.instruction_register[0] = jump * v.y[0] + (1.0f - jump) * last;
  *next.halting = state.halting + (1.0f - state.halting) * e[kStop];
}

template <typename V>
void StepBackward(const Sizes& n, const State<V>& state,
                  const Command<V>& command, const StepValues<const V>& v,
                  const State<V>& grad_next, StepScratch<V>* s,
                  const MutableState<V>& grad_state,
                  const MutableCommand<V>& grad_command) {
  const int64_t size = n.memory;
  const V* e = command.instruction;
  const V* __restrict x = v.x;
  const V* __restrict y = v.y;
  V* __restrict grad_x = s->grad_x.data();
  V* __restrict grad_y = s->grad_y.data();
  V* __restrict grad_out = s->grad_out.data();
  V* ge = grad_command.instruction;
  std::fill_n(grad_x, size, V{});
  std::fill_n(grad_y, size, V{});
  std::fill_n(grad_out, size, V{});
  std::fill_n(ge, kNumInstructions, V{});

  // Halting: p' = p + (1 - p) e_STOP.
  *grad_state.halting = grad_next.halting * (1.0f - e[kStop]);
  ge[kStop] += grad_next.halting * (1.0f - state.halting);

  // IR: ir'[c] = jump y[c] + (1 - jump) ir[c - 1], jump = e_JEZ x[0].
  const V jump = e[kJez] * x[0];
  const V* g_ir = grad_next.instruction_register;
  const V* ir = state.instruction_register;
  const V grad_jump = Dot(size, g_ir, y) - g_ir[0] * ir[size - 1] -
                      Dot(size - 1, g_ir + 1, ir);
  Axpy(size, jump, g_ir, grad_y);
  for (int64_t c = 0; c + 1 < size; ++c) {
    grad_state.instruction_register[c] = (1.0f - jump) * g_ir[c + 1];
  }
  grad_state.instruction_register[size - 1] = (1.0f - jump) * g_ir[0];
  ge[kJez] += grad_jump * x[0];
  grad_x[0] += grad_jump * e[kJez];

  // Registers: reg'[r] = (1 - o_r) reg[r] + o_r out (the gradient with
  // respect to reg[r] is written with the argument selection's, below).
  {
    int64_t r = 0;
    if constexpr (kIsLanes<V>) {
      for (; r + kRowBlock <= n.registers; r += kRowBlock) {
        RegisterRowsBackward<kRowBlock>(
            size, r, command.output, state.registers, grad_next.registers,
            v.out, grad_out, grad_command.output);
      }
    }
    for (; r < n.registers; ++r) {
      RegisterRowsBackward<1>(size, r, command.output, state.registers,
                              grad_next.registers, v.out, grad_out,
                              grad_command.output);
    }
  }

  // Memory: mem'[i] = (1 - e_WRITE x_i) mem[i] + e_WRITE x_i y, and READ's
  // out = sum_i e_READ x_i mem[i]. For lanes kRowBlock rows at a time, so
  // that y[c], grad_out[c] and grad_y[c] are loaded (and grad_y[c] stored)
  // once for them; the same sums in the same order as a row at a time.
  int64_t i = 0;
  for (; kIsLanes<V> && i + kRowBlock <= size; i += kRowBlock) {
    const V* __restrict row = state.memory + i * size;
    // g_row and grad_row may be one array (in place).
    const V* g_row = grad_next.memory + i * size;
    V* grad_row = grad_state.memory + i * size;
    V write[kRowBlock], keep[kRowBlock], read_weight[kRowBlock];
    V grad_write[kRowBlock] = {}, grad_read[kRowBlock] = {};
#pragma GCC unroll 4
    for (int k = 0; k < kRowBlock; ++k) {
      write[k] = e[kWrite] * x[i + k];
      keep[k] = 1.0f - write[k];
      read_weight[k] = e[kRead] * x[i + k];
    }
    for (int64_t c = 0; c < size; ++c) {
      const V y_c = Load(y, c);
      const V grad_out_c = Load(grad_out, c);
      V grad_y_c = grad_y[c];
#pragma GCC unroll 4
      for (int k = 0; k < kRowBlock; ++k) {
        const V row_c = Load(row, k * size + c);
        const V g_c = Load(g_row, k * size + c);
        grad_write[k] += g_c * (y_c - row_c);
        grad_read[k] += grad_out_c * row_c;
        grad_y_c += write[k] * g_c;
        grad_row[k * size + c] =
            keep[k] * g_c + read_weight[k] * grad_out_c;
      }
      grad_y[c] = grad_y_c;
    }
#pragma GCC unroll 4
    for (int k = 0; k < kRowBlock; ++k) {
      grad_x[i + k] += e[kWrite] * grad_write[k] + e[kRead] * grad_read[k];
      ge[kWrite] += x[i + k] * grad_write[k];
    }
  }
  for (; i < size; ++i) {
    const V write = e[kWrite] * x[i];
    const V read_weight = e[kRead] * x[i];
    const V* __restrict row = state.memory + i * size;
    const V* g_row = grad_next.memory + i * size;
    V* grad_row = grad_state.memory + i * size;
    V grad_write = {}, grad_read = {};
#pragma omp simd reduction(+ : grad_write, grad_read)
    for (int64_t c = 0; c < size; ++c) {
      const V row_c = Load(row, c);
      const V g_c = Load(g_row, c);
      grad_write += g_c * (y[c] - row_c);
      grad_read += grad_out[c] * row_c;
      grad_y[c] += write * g_c;
      grad_row[c] = (1.0f - write) * g_c + read_weight * grad_out[c];
    }
    grad_x[i] += e[kWrite] * grad_write + e[kRead] * grad_read;
    ge[kWrite] += x[i] * grad_write;
  }

  // ALU: de_k = <grad_out, out_k>, then back through each out_k, reading
  // the output gradient g doubled cyclically. INC: out[c] = x[c - 1], so
  // de_INC = sum_i x_i g[i + 1] and grad_x[i] takes e_INC g[i + 1]; DEC
  // the other way round.
  V* grad_out_doubled = s->grad_out_doubled.data();
  for (int64_t c = 0; c < size; ++c) {
    grad_out_doubled[c] = grad_out_doubled[c + size] = grad_out[c];
  }
  const V zero_weight = grad_out[0];
  ge[kStop] += zero_weight;
  ge[kZero] += zero_weight;
  ge[kWrite] += zero_weight;
  ge[kJez] += zero_weight;
  ge[kInc] += Dot(size, x, grad_out_doubled + 1);
  ge[kDec] += Dot(size, x, grad_out_doubled + size - 1);
  ge[kRead] += Dot(size, grad_out, v.read);
  Axpy(size, e[kInc], grad_out_doubled + 1, grad_x);
  Axpy(size, e[kDec], grad_out_doubled + size - 1, grad_x);

  // ADD and SUB: sum_i x_i z[c - i] (ConvolutionWeights), so d x_i =
  // sum_j z_j g[i + j] and d z_j = sum_i x_i g[i + j]; and through z =
  // e_ADD y + e_SUB y reversed, d y_j = e_ADD d z_j + e_SUB d z_{-j},
  // de_ADD = <y, d z> and de_SUB = sum_j y_j d z_{-j}.
  const V* z_doubled = s->z_doubled.data();
  ConvolutionWeights(size, y, e[kAdd], e[kSub], s->z_doubled.data());
  V* __restrict grad_z = s->grad_z.data();
  SlidingDots<1>(size, size, x, grad_out_doubled, grad_z, /*assign=*/true);
  SlidingDots<1>(size, size, z_doubled, grad_out_doubled, grad_x);
  V add_sum = {}, sub_sum = {};
  for (int64_t j = 0; j < size; ++j) {
    const V grad_z_reversed = grad_z[j == 0 ? 0 : size - j];
    grad_y[j] += e[kAdd] * grad_z[j] + e[kSub] * grad_z_reversed;
    add_sum += y[j] * grad_z[j];
    sub_sum += y[j] * grad_z_reversed;
  }
  ge[kAdd] += add_sum;
  ge[kSub] += sub_sum;

  // MIN = x_c Y>=[c] + X>[c] y_c and MAX = x_c Y<=[c] + X<[c] y_c
  // (SuffixSums), where the cumulative sums spread their gradient over
  // prefixes (MIN) and suffixes (MAX) of c. c downwards: MAX's suffixes.
  SuffixSums(size, x, y, s);
  V max_x_suffix = {}, max_y_suffix = {};
  for (int64_t c = size - 1; c >= 0; --c) {
    const V g_max = e[kMax] * grad_out[c];
    grad_x[c] += max_y_suffix;
    max_x_suffix += g_max * x[c];  // Y<=[c'] for c' >= c holds y_c
    grad_y[c] += max_x_suffix;
    max_y_suffix += g_max * y[c];  // X<[c'] for c' > c holds x_c
  }
  // c upwards: the rest, MIN's prefixes, and de_MIN and de_MAX.
  V x_below = {}, y_at_or_below = {}, min_x_prefix = {}, min_y_prefix = {},
    min_sum = {}, max_sum = {};
  for (int64_t c = 0; c < size; ++c) {
    const V g_min = e[kMin] * grad_out[c];
    const V g_max = e[kMax] * grad_out[c];
    y_at_or_below += y[c];
    const V y_at_or_above = s->y_at_or_above[c];
    const V x_above = s->x_above[c];
    min_sum += grad_out[c] * (x[c] * y_at_or_above + x_above * y[c]);
    max_sum += grad_out[c] * (x[c] * y_at_or_below + x_below * y[c]);
    grad_x[c] += g_min * y_at_or_above + g_max * y_at_or_below +
                 min_y_prefix;
    min_x_prefix += g_min * x[c];  // Y>=[c'] for c' <= c holds y_c
    grad_y[c] += g_min * x_above + g_max * x_below + min_x_prefix;
    min_y_prefix += g_min * y[c];  // X>[c'] for c' < c holds x_c
    x_below += x[c];
  }
  ge[kMin] += min_sum;
  ge[kMax] += max_sum;

  // Argument selection: x = s / sum(s), s = sum_r a_r reg[r], and y from
  // b alike; the registers' gradient, both parts in one pass.
  RescaleArgumentGradient(size, x, *v.x_mass_inverse, grad_x);
  RescaleArgumentGradient(size, y, *v.y_mass_inverse, grad_y);
  int64_t r = 0;
  if constexpr (kIsLanes<V>) {
    for (; r + kRowBlock <= n.registers; r += kRowBlock) {
      SelectionRowsBackward<kRowBlock>(
          size, r, command.first_argument, command.second_argument,
          command.output, state.registers, grad_next.registers,
          static_cast<const V*>(grad_x),
          static_cast<const V*>(grad_y), grad_state.registers,
          grad_command.first_argument, grad_command.second_argument);
    }
  }
  for (; r < n.registers; ++r) {
    SelectionRowsBackward<1>(
        size, r, command.first_argument, command.second_argument,
        command.output, state.registers, grad_next.registers,
        static_cast<const V*>(grad_x),
        static_cast<const V*>(grad_y), grad_state.registers,
        grad_command.first_argument, grad_command.second_argument);
  }
}

// One example at a time and kLanes at a time, as the run ops need.
#define TF_ANC_INSTANTIATE_STEP(V)                                            \
  template struct StepScratch<V>;                                             \
  template void ComputeStepValues<V>(const Sizes&, const State<V>&,           \
                                     const Command<V>&, StepScratch<V>*,      \
                                     const StepValues<V>&);                   \
  template void ApplyStep<V>(const Sizes&, const State<V>&,                   \
                             const Command<V>&, const StepValues<const V>&,   \
                             const MutableState<V>&);                         \
  template void StepBackward<V>(const Sizes&, const State<V>&,                \
                                const Command<V>&,                            \
                                const StepValues<const V>&, const State<V>&,  \
                                StepScratch<V>*, const MutableState<V>&,      \
                                const MutableCommand<V>&);
TF_ANC_INSTANTIATE_STEP(float)
TF_ANC_INSTANTIATE_STEP(Lanes)
#undef TF_ANC_INSTANTIATE_STEP

}  // namespace tf_anc
