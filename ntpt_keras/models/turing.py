# A Turing machine whose transition table is learned (TerpreT tech report,
# Gaunt et al. 2016, section 4.1), in TerpreT's own dialect: sizes are
# Hyper()s bound from a hypers file, and the header below is ignored.
from dummy import Hyper, Param, Var, Runtime, Input, Output, Inline

numTapeSymbols = Hyper()
numHeadStates = Hyper()
tapeLength = Hyper()
numTimesteps = Hyper()
boolSize = 2
numDirections = 3  # stay, right, left

initial_tape = Input(numTapeSymbols)[tapeLength]
final_is_halted = Output(boolSize)
final_tape = Output(numTapeSymbols)[tapeLength]

# The transition table: for each (head state, symbol read), the symbol to
# write, the move and the next state. State 0 halts; the machine starts in 1.
write = Param(numTapeSymbols)[numHeadStates, numTapeSymbols]
dir = Param(numDirections)[numHeadStates, numTapeSymbols]
newState = Param(numHeadStates)[numHeadStates, numTapeSymbols]


@Runtime([tapeLength, numDirections], tapeLength)
def move(pos, dir):
    if dir == 1:
        return (pos + 1) % tapeLength
    if dir == 2:
        return (pos - 1) % tapeLength
    return pos


@Runtime([tapeLength, tapeLength], boolSize)
def same_position(a, b):
    return a == b


@Runtime([numHeadStates], boolSize)
def is_halt_state(state):
    return state == 0


tape = Var(numTapeSymbols)[numTimesteps, tapeLength]
pos = Var(tapeLength)[numTimesteps]
state = Var(numHeadStates)[numTimesteps]
halted = Var(boolSize)[numTimesteps]
written = Var(numTapeSymbols)[numTimesteps - 1]
at_head = Var(boolSize)[numTimesteps - 1, tapeLength]

pos[0].set_to(0)
state[0].set_to(1)
halted[0].set_to(0)
for p in range(tapeLength):
    tape[0, p].set_to(initial_tape[p])

for t in range(numTimesteps - 1):
    if halted[t] == 1:
        state[t + 1].set_to(state[t])
        pos[t + 1].set_to(pos[t])
        halted[t + 1].set_to(halted[t])
        for p in range(tapeLength):
            tape[t + 1, p].set_to(tape[t, p])
    elif halted[t] == 0:
        with state[t] as s:
            with pos[t] as p:
                with tape[t, p] as symbol:
                    written[t].set_to(write[s, symbol])
                    pos[t + 1].set_to(move(p, dir[s, symbol]))
                    state[t + 1].set_to(newState[s, symbol])
        halted[t + 1].set_to(is_halt_state(state[t + 1]))
        for p in range(tapeLength):
            at_head[t, p].set_to(same_position(p, pos[t]))
            if at_head[t, p] == 1:
                tape[t + 1, p].set_to(written[t])
            elif at_head[t, p] == 0:
                tape[t + 1, p].set_to(tape[t, p])

final_is_halted.set_to(halted[numTimesteps - 1])
for p in range(tapeLength):
    final_tape[p].set_to(tape[numTimesteps - 1, p])
