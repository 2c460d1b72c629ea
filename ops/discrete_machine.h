// The discrete machine in native code: docs/anc-machine.md's discrete
// machine on int32 arrays, step for step what tf_anc/reference.py does (the
// oracle tests/test_discrete_ops.py compares it with, exactly). Used by
// AncDiscreteRun (many programs x many inputs per call) and
// AncProgramSearch (the annealing of tf_anc/training/program_search.py).
//
// A program is three arrays: its rows [M, kProgramColumns] (instruction,
// first argument, second argument, output register), its registers'
// initial values [R] and its start line.

#ifndef TF_ANC_OPS_DISCRETE_MACHINE_H_
#define TF_ANC_OPS_DISCRETE_MACHINE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tf_anc {

constexpr int kProgramColumns = 4;
enum ProgramColumn { kInstruction = 0, kFirst = 1, kSecond = 2, kOutput = 3 };
// An instruction column's value for a row past the program's end (a
// program shorter than M): the machine halts on reaching it, as the
// reference does off the end of its operations.
constexpr int32_t kPastTheEnd = -1;
// An argument column's value for an argument the instruction ignores: it
// reads 0 (the reference's None).
constexpr int32_t kNoArgument = -1;

// The instruction set's codes (tf_anc/isa.py's order).
enum DiscreteInstruction : int32_t {
  kStop = 0, kZero, kInc, kAdd, kSub, kDec, kMin, kMax, kRead, kWrite, kJez,
  kNumDiscreteInstructions
};

struct DiscreteProgram {
  const int32_t* rows;               // [M, kProgramColumns]
  const int32_t* initial_registers;  // [R]
  int32_t start;
};

struct DiscreteRun {
  int32_t steps;  // instructions executed, the final STOP included
  bool halted;    // false when max_steps ran out first
};

// Runs `program` on `memory` ([M] cells, changed in place) with
// `registers` ([R], overwritten with the final values) for up to
// `max_steps` steps. The program, memory and registers hold values the
// checks below accept.
inline DiscreteRun RunDiscrete(const DiscreteProgram& program,
                               int32_t memory_size, int32_t num_registers,
                               int32_t max_steps, int32_t* memory,
                               int32_t* registers) {
  for (int32_t r = 0; r < num_registers; ++r) {
    registers[r] = program.initial_registers[r];
  }
  int32_t pointer = program.start;
  for (int32_t step = 1; step <= max_steps; ++step) {
    const int32_t* row = program.rows + pointer * kProgramColumns;
    const int32_t code = row[kInstruction];
    if (code == kPastTheEnd) return {step, true};
    const int32_t x = row[kFirst] == kNoArgument ? 0 : registers[row[kFirst]];
    const int32_t y =
        row[kSecond] == kNoArgument ? 0 : registers[row[kSecond]];
    int32_t out = 0;
    switch (code) {
      case kInc: out = x + 1 == memory_size ? 0 : x + 1; break;
      case kAdd: out = x + y >= memory_size ? x + y - memory_size : x + y;
        break;
      case kSub: out = x < y ? x - y + memory_size : x - y; break;
      case kDec: out = x == 0 ? memory_size - 1 : x - 1; break;
      case kMin: out = x < y ? x : y; break;
      case kMax: out = x > y ? x : y; break;
      case kRead: out = memory[x]; break;
      case kWrite: memory[x] = y; break;
      default: break;  // STOP, ZERO, JEZ: 0
    }
    registers[row[kOutput]] = out;
    if (code == kStop) return {step, true};
    if (code == kJez && x == 0) {
      pointer = y;
    } else {
      pointer = pointer + 1 == memory_size ? 0 : pointer + 1;
    }
  }
  return {max_steps, false};
}

// Checks programs [C, M, kProgramColumns], initial registers [C, R] and
// starts [C] against each other and the machine's ranges (every value a
// register index or a cell), so that RunDiscrete never reads or writes
// out of bounds. `memory_size` is the inputs' M.
absl::Status CheckDiscretePrograms(const ::tensorflow::Tensor& programs,
                                   const ::tensorflow::Tensor& registers,
                                   const ::tensorflow::Tensor& starts,
                                   int64_t memory_size);

// Checks that `memories` ([E, M]) holds cells in [0, M).
absl::Status CheckDiscreteMemories(const ::tensorflow::Tensor& memories,
                                   const char* name);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_DISCRETE_MACHINE_H_
