// AncProgramSearch: tf_anc/training/program_search.py's annealing in native
// code, one chain per program, the chains spread over the CPU's threads.
//
// Each chain draws from CPython's own generator (random.Random: MT19937 from
// the state getstate() hands over, and random(), randrange(n) and choice as
// CPython computes them) in the same order as the Python search, and rounds
// every floating-point operation as Python does, so that for the same seed
// it proposes, accepts and returns the same programs: the Python search is
// the reference tests/test_discrete_ops.py holds this one to.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "discrete_machine.h"
#include "parallel_for.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tf_anc {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::InferenceContext;

// CPython's random.Random from its getstate(): 624 state words and the
// position of the next one.
class PythonRandom {
 public:
  static constexpr int kStateWords = 624;

  explicit PythonRandom(const int64_t* state) {
    for (int i = 0; i < kStateWords; ++i) {
      state_[i] = static_cast<uint32_t>(state[i]);
    }
    position_ = static_cast<int>(state[kStateWords]);
  }

  // genrand_uint32: the next tempered word, regenerating all 624 when
  // they are used up.
  uint32_t Next() {
    constexpr int kShift = 397;
    constexpr uint32_t kMatrix = 0x9908b0dfU, kUpper = 0x80000000U,
                       kLower = 0x7fffffffU;
    if (position_ >= kStateWords) {
      for (int k = 0; k < kStateWords; ++k) {
        const uint32_t y = (state_[k] & kUpper) |
                           (state_[(k + 1) % kStateWords] & kLower);
        state_[k] = state_[(k + kShift) % kStateWords] ^ (y >> 1) ^
                    ((y & 1U) ? kMatrix : 0U);
      }
      position_ = 0;
    }
    uint32_t y = state_[position_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
  }

  // random(): 53 bits from two words.
  double Random() {
    const uint32_t high = Next() >> 5, low = Next() >> 6;
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0);
  }

  // randrange(n) and choice's index (_randbelow): k = n.bit_length() bits,
  // drawn again until below n.
  int32_t Below(int32_t n) {
    const int bits = 32 - __builtin_clz(static_cast<uint32_t>(n));
    uint32_t value = Next() >> (32 - bits);
    while (value >= static_cast<uint32_t>(n)) value = Next() >> (32 - bits);
    return static_cast<int32_t>(value);
  }

 private:
  uint32_t state_[kStateWords];
  int position_;
};

// a * b rounded before anything is added to it, as Python rounds: the
// library is built with -ffp-contract=fast, which would fuse a * b + c
// into one FMA and so change which candidates the search accepts.
inline double Product(double a, double b) {
  volatile double product = a * b;
  return product;
}

struct Examples {
  const int32_t* inputs;   // [E, M]
  const int32_t* targets;  // [E, M]
  const bool* masks;       // [E, M]
  int32_t count;
};

struct Settings {
  int32_t memory_size, num_registers, max_steps, steps;
  double temperature, wrong_cell_cost;
};

// A chain's program: rows [M, 4], initial registers [R], start.
struct Program {
  std::vector<int32_t> rows, registers;
  int32_t start;

  DiscreteProgram View() const {
    return {rows.data(), registers.data(), start};
  }
};

// Sums of wrong masked cells and of steps over the examples, or false as
// soon as (wrong_cell_cost * wrong + steps) / count exceeds
// `energy_limit` (both sums only grow; program_search._score_within).
bool ScoreWithin(const Program& program, const Examples& examples,
                 const Settings& settings, double energy_limit,
                 double wrong_cell_cost, int64_t* wrong, int64_t* steps) {
  const int32_t m = settings.memory_size;
  std::vector<int32_t> memory(m), registers(settings.num_registers);
  *wrong = *steps = 0;
  for (int32_t example = 0; example < examples.count; ++example) {
    const int32_t* input = examples.inputs + example * m;
    std::copy(input, input + m, memory.begin());
    const DiscreteRun run =
        RunDiscrete(program.View(), m, settings.num_registers,
                    settings.max_steps, memory.data(), registers.data());
    const int32_t* target = examples.targets + example * m;
    const bool* mask = examples.masks + example * m;
    for (int32_t cell = 0; cell < m; ++cell) {
      *wrong += mask[cell] && memory[cell] != target[cell];
    }
    *steps += run.steps;
    if ((Product(wrong_cell_cost, static_cast<double>(*wrong)) +
         static_cast<double>(*steps)) / examples.count > energy_limit) {
      return false;
    }
  }
  return true;
}

// Cumulative proposal distributions: row line * 4 + column for a line's
// instruction or register, 4M + r for register r's initial value, 4M + R
// for the start line; each row's last valid entry exactly 1.
struct Proposals {
  const double* cdfs;  // nullptr: uniform, randrange's draws
  int64_t width;

  int32_t Draw(PythonRandom* random, int64_t row, int32_t count) const {
    if (cdfs == nullptr) return random->Below(count);
    const double u = random->Random();
    const double* cdf = cdfs + row * width;
    int32_t value = 0;
    while (cdf[value] <= u) ++value;
    return value;
  }
};

// program_search._neighbour: one choice of `program` drawn afresh.
void Neighbour(const Settings& settings, const Proposals& proposals,
               PythonRandom* random, Program* program) {
  const int32_t m = settings.memory_size, r = settings.num_registers;
  const double move = random->Random();
  if (move < 0.8) {
    const int32_t line = random->Below(m);
    const int32_t column = random->Below(kProgramColumns);
    program->rows[line * kProgramColumns + column] = proposals.Draw(
        random, line * kProgramColumns + column,
        column == kInstruction ? kNumDiscreteInstructions : r);
  } else if (move < 0.95) {
    const int32_t index = random->Below(r);
    program->registers[index] =
        proposals.Draw(random, m * kProgramColumns + index, m);
  } else {
    program->start = proposals.Draw(random, m * kProgramColumns + r, m);
  }
}

struct Best {
  Program program;
  double mean_steps;
  bool found = false;
};

// program_search.anneal for one chain.
Best Anneal(Program current, const Examples& examples, const Settings& s,
            const Proposals& proposals, double faster_than,
            PythonRandom* random) {
  const double count = examples.count;
  int64_t wrong, steps;
  ScoreWithin(current, examples, s, INFINITY, 0.0, &wrong, &steps);
  double current_wrong = wrong / count, current_steps = steps / count;
  Best best;
  for (int32_t step = 0; step <= s.steps; ++step) {
    if (step) {
      Program candidate = current;
      Neighbour(s, proposals, random, &candidate);
      const double cooled =
          Product(s.temperature,
                  1 - static_cast<double>(step) / s.steps) + 0.05;
      const double energy =
          Product(s.wrong_cell_cost, current_wrong) + current_steps;
      const double limit =
          energy - Product(cooled, std::log(1.0 - random->Random()));
      if (!ScoreWithin(candidate, examples, s, limit, s.wrong_cell_cost,
                       &wrong, &steps)) {
        continue;
      }
      current = std::move(candidate);
      current_wrong = wrong / count;
      current_steps = steps / count;
    }
    if (current_wrong == 0 && current_steps < faster_than &&
        (!best.found || current_steps < best.mean_steps)) {
      best.program = current;
      best.mean_steps = current_steps;
      best.found = true;
    }
  }
  return best;
}

}  // namespace

REGISTER_OP("AncProgramSearch")
    .Input("programs: int32")
    .Input("initial_registers: int32")
    .Input("starts: int32")
    .Input("random_states: int64")
    .Input("faster_than: double")
    .Input("inputs: int32")
    .Input("targets: int32")
    .Input("masks: bool")
    .Input("proposal_cdfs: double")
    .Input("temperature: double")
    .Input("wrong_cell_cost: double")
    .Attr("max_steps: int >= 1")
    .Attr("steps: int >= 0")
    .Output("found: bool")
    .Output("best_programs: int32")
    .Output("best_initial_registers: int32")
    .Output("best_starts: int32")
    .Output("best_mean_steps: double")
    .SetShapeFn([](InferenceContext* c) {
      const auto chains = c->Dim(c->input(0), 0);
      c->set_output(0, c->MakeShape({chains}));
      c->set_output(1, c->input(0));
      c->set_output(2, c->input(1));
      c->set_output(3, c->MakeShape({chains}));
      c->set_output(4, c->MakeShape({chains}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Anneals each of C programs (one chain each) on the same examples; see
tf_anc/training/program_search.py, whose search this is, draw for draw.

programs, initial_registers, starts: as AncDiscreteRun's, every argument a
  register (program_search.padded).
random_states: [C, 625] each chain's random.Random(seed).getstate()[1].
faster_than: [C] the mean steps a program must beat.
inputs, targets: [E, M]; masks: [E, M] the cells that count.
proposal_cdfs: [C, 4M + R + 1, W] cumulative proposal distributions (rows:
  each line's instruction and registers, each register's initial value, the
  start line), or [0, 0, 0] for uniform proposals.
found: [C] whether a program right on every example and faster than
  faster_than was met; best_*: the fastest such, and its mean steps.
)doc");

namespace {

class AncProgramSearchOp : public OpKernel {
 public:
  explicit AncProgramSearchOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("max_steps", &max_steps_));
    OP_REQUIRES_OK(context, context->GetAttr("steps", &steps_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& programs = context->input(0);
    const Tensor& registers = context->input(1);
    const Tensor& starts = context->input(2);
    const Tensor& random_states = context->input(3);
    const Tensor& faster_than = context->input(4);
    const Tensor& inputs = context->input(5);
    const Tensor& targets = context->input(6);
    const Tensor& masks = context->input(7);
    const Tensor& proposal_cdfs = context->input(8);
    OP_REQUIRES_OK(context, CheckDiscreteMemories(inputs, "inputs"));
    OP_REQUIRES_OK(context, CheckDiscreteMemories(targets, "targets"));
    const int64_t m = inputs.dim_size(1);
    OP_REQUIRES_OK(context,
                   CheckDiscretePrograms(programs, registers, starts, m));
    const int64_t chains = programs.dim_size(0);
    const int64_t r = registers.dim_size(1);
    OP_REQUIRES(
        context,
        targets.shape() == inputs.shape() && masks.shape() == inputs.shape() &&
            inputs.dim_size(0) > 0,
        absl::InvalidArgumentError(
            "inputs, targets and masks must have one shape [E, M], E > 0, "
            "got " + inputs.shape().DebugString() + ", " +
            targets.shape().DebugString() + " and " +
            masks.shape().DebugString()));
    OP_REQUIRES(context,
                random_states.shape() ==
                    TensorShape({chains, PythonRandom::kStateWords + 1}) &&
                    faster_than.shape() == TensorShape({chains}),
                absl::InvalidArgumentError(
                    "random_states must be [C, 625] and faster_than [C], got " +
                    random_states.shape().DebugString() + " and " +
                    faster_than.shape().DebugString()));
    const bool guided = proposal_cdfs.NumElements() > 0;
    const int64_t proposal_rows = m * kProgramColumns + r + 1;
    const int64_t width =
        std::max<int64_t>({kNumDiscreteInstructions, r, m});
    OP_REQUIRES(
        context,
        !guided || proposal_cdfs.shape() ==
                       TensorShape({chains, proposal_rows, width}),
        absl::InvalidArgumentError(
            "proposal_cdfs must be [C, 4M + R + 1, max(11, R, M)] = " +
            TensorShape({chains, proposal_rows, width}).DebugString() +
            " or empty, got " + proposal_cdfs.shape().DebugString()));
    if (guided) {
      OP_REQUIRES_OK(context, CheckLastValidEntries(proposal_cdfs, m, r));
    }
    Settings settings = {static_cast<int32_t>(m), static_cast<int32_t>(r),
                         static_cast<int32_t>(max_steps_),
                         static_cast<int32_t>(steps_),
                         context->input(9).scalar<double>()(),
                         context->input(10).scalar<double>()()};
    const Examples examples = {inputs.flat<int32_t>().data(),
                               targets.flat<int32_t>().data(),
                               masks.flat<bool>().data(),
                               static_cast<int32_t>(inputs.dim_size(0))};
    Tensor* found = nullptr;
    Tensor* best_programs = nullptr;
    Tensor* best_registers = nullptr;
    Tensor* best_starts = nullptr;
    Tensor* best_mean_steps = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(
                                0, TensorShape({chains}), &found));
    OP_REQUIRES_OK(context, context->allocate_output(1, programs.shape(),
                                                     &best_programs));
    OP_REQUIRES_OK(context, context->allocate_output(2, registers.shape(),
                                                     &best_registers));
    OP_REQUIRES_OK(context, context->allocate_output(
                                3, TensorShape({chains}), &best_starts));
    OP_REQUIRES_OK(context, context->allocate_output(
                                4, TensorShape({chains}), &best_mean_steps));
    const int64_t row_values = m * kProgramColumns;
    // A chain is one item: each of its steps runs a candidate on up to E
    // examples of up to max_steps steps.
    ParallelFor(
        context, chains,
        std::max<int64_t>(1, steps_) * inputs.dim_size(0) * max_steps_,
        [&](int64_t begin, int64_t end) {
      for (int64_t chain = begin; chain < end; ++chain) {
        Program start;
        const int32_t* rows = programs.flat<int32_t>().data() +
                              chain * row_values;
        start.rows.assign(rows, rows + row_values);
        const int32_t* initial = registers.flat<int32_t>().data() + chain * r;
        start.registers.assign(initial, initial + r);
        start.start = starts.flat<int32_t>()(chain);
        PythonRandom random(random_states.flat<int64_t>().data() +
                            chain * (PythonRandom::kStateWords + 1));
        const Proposals proposals = {
            guided ? proposal_cdfs.flat<double>().data() +
                         chain * proposal_rows * width
                   : nullptr,
            width};
        const Best best =
            Anneal(std::move(start), examples, settings, proposals,
                   faster_than.flat<double>()(chain), &random);
        found->flat<bool>()(chain) = best.found;
        best_mean_steps->flat<double>()(chain) =
            best.found ? best.mean_steps : NAN;
        // Without a program found, the chain's own comes back.
        const int32_t* best_rows = best.found ? best.program.rows.data() : rows;
        const int32_t* best_initial =
            best.found ? best.program.registers.data() : initial;
        std::copy(best_rows, best_rows + row_values,
                  best_programs->flat<int32_t>().data() + chain * row_values);
        std::copy(best_initial, best_initial + r,
                  best_registers->flat<int32_t>().data() + chain * r);
        best_starts->flat<int32_t>()(chain) =
            best.found ? best.program.start : starts.flat<int32_t>()(chain);
      }
    });
  }

 private:
  // Each proposal row's entry for its last value must be exactly 1, so that
  // a draw in [0, 1) never passes the values the row may take.
  static absl::Status CheckLastValidEntries(const Tensor& cdfs, int64_t m,
                                            int64_t r) {
    const int64_t chains = cdfs.dim_size(0), rows = cdfs.dim_size(1),
                  width = cdfs.dim_size(2);
    const double* values = cdfs.flat<double>().data();
    for (int64_t chain = 0; chain < chains; ++chain) {
      for (int64_t row = 0; row < rows; ++row) {
        int64_t count = m;  // initial values and the start: cells
        if (row < m * kProgramColumns) {
          count = row % kProgramColumns == kInstruction
                      ? kNumDiscreteInstructions : r;
        }
        if (values[(chain * rows + row) * width + count - 1] != 1.0) {
          return absl::InvalidArgumentError(
              "proposal_cdfs[" + std::to_string(chain) + ", " +
              std::to_string(row) + ", " + std::to_string(count - 1) +
              "] must be 1 (the row's last value)");
        }
      }
    }
    return absl::OkStatus();
  }

  int64_t max_steps_, steps_;
};

REGISTER_KERNEL_BUILDER(
    Name("AncProgramSearch").Device(::tensorflow::DEVICE_CPU),
    AncProgramSearchOp);

}  // namespace
}  // namespace tf_anc
