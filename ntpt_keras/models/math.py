# The MATH model of the NTPT paper (section 4.3, Figure 4): a loop over a
# tape of symbols `d op d op ... d`, evaluated left to right.
#
# Three blocks, each with a learned instruction, MOVE or APPLY, that writes
# the block's own register Rb:
#   MOVE: the head moves one cell right and Rb = the read of the new cell
#         by the block's net_choice (net_0 reads digits, net_1 operators);
#   APPLY: Rb = APPLY(R[arg1], R[arg2], R[arg3]), R[arg3] read as an
#          operator (0 + 1 - 2 x 3 /, modulo M + 1, / 0 gives M; any other
#          value gives M).
# After each block GOTO_IF passes control to the block's learned goto unless
# the head is past the end of the tape; then the program halts and returns
# its learned return_register. The head starts before the tape, control at
# block 0, the registers at 0 (0 is also +). The loop of the paper's
# Figure 4b takes three steps a digit:
#   L0: MOVE R0 = READ(net_0); L1: R1 = APPLY(R1, R0, R2);
#   L2: MOVE R2 = READ(net_1); return R1.
#
# Hypers (models/instances/math_hypers.json): `digits`, the tape's length in
# digits (the model is compiled once per length; its params do not depend on
# it), and `perceptual`: 1 for a tape of images read by the neural library's
# networks, 0 for a tape of symbols (digit d is d, operator k is 10 + k)
# read by fixed functions.
M = 18
n_blocks = 3
HALT = n_blocks  # the instruction pointer once halted
n_instr = 2  # MOVE, APPLY
n_nets = 2
n_symbols = 14
digits = Hyper()
perceptual = Hyper()
tape_length = 2 * digits - 1
# Head positions: 0 before the tape, p on its cell p - 1, tape_length + 1
# past its end.
past_end = tape_length + 1
n_steps = 3 * digits

if perceptual == 1:
    tape = InputTensor(28, 28)[tape_length]

    @Learn([Tensor(28, 28)], 10, hid_sizes=[256, 256])
    def net_0(image):
        pass

    @Learn([Tensor(28, 28)], 4, hid_sizes=[256, 256])
    def net_1(image):
        pass
else:
    tape = Input(n_symbols)[tape_length]

    # A digit reader reads an operator as some digit, and an operator
    # reader a digit as some operator, as networks would.
    @Runtime([n_symbols], 10)
    def net_0(symbol):
        return symbol % 10

    @Runtime([n_symbols], 4)
    def net_1(symbol):
        return symbol - 10 if symbol >= 10 else symbol % 4

answer = Output(M + 1)

instr = Param(n_instr)[n_blocks]
arg1 = Param(n_blocks)[n_blocks]
arg2 = Param(n_blocks)[n_blocks]
arg3 = Param(n_blocks)[n_blocks]
net_choice = Param(n_nets)[n_blocks]
goto = Param(n_blocks)[n_blocks]
return_register = Param(n_blocks)

ip = Var(n_blocks + 1)[n_steps + 1]
pos = Var(past_end + 1)[n_steps + 1]
reg = Var(M + 1)[n_steps + 1, n_blocks]
result = Var(M + 1)[n_steps, n_blocks]
first = Var(M + 1)[n_steps, n_blocks]
second = Var(M + 1)[n_steps, n_blocks]
third = Var(M + 1)[n_steps, n_blocks]


@Runtime([past_end + 1], past_end + 1)
def advance(p):
    return min(p + 1, past_end)


@Runtime([past_end + 1, n_blocks], n_blocks + 1)
def goto_if(p, target):
    return HALT if p == past_end else target


@Runtime([10], M + 1)
def number(digit):
    return digit


@Runtime([4], M + 1)
def operator(op):
    return op


# The arithmetic, modulo M + 1 (/ is floor division; / 0 gives M).
@Runtime([M + 1, M + 1], M + 1)
def add(a, b):
    return (a + b) % (M + 1)


@Runtime([M + 1, M + 1], M + 1)
def subtract(a, b):
    return (a - b) % (M + 1)


@Runtime([M + 1, M + 1], M + 1)
def multiply(a, b):
    return (a * b) % (M + 1)


@Runtime([M + 1, M + 1], M + 1)
def divide(a, b):
    return M if b == 0 else (a // b) % (M + 1)


ip[0].set_to(0)
pos[0].set_to(0)
for r in range(n_blocks):
    reg[0, r].set_to(0)

for t in range(n_steps):
    with ip[t] as b:
        if b == HALT:
            ip[t + 1].set_to(HALT)
            pos[t + 1].set_to(pos[t])
            for r in range(n_blocks):
                reg[t + 1, r].set_to(reg[t, r])
        else:
            if instr[b] == 0:  # MOVE
                pos[t + 1].set_to(advance(pos[t]))
                with pos[t + 1] as p:
                    if p == 0 or p == past_end:  # off the tape: no read
                        result[t, b].set_to(0)
                    elif net_choice[b] == 0:
                        result[t, b].set_to(number(net_0(tape[p - 1])))
                    else:
                        result[t, b].set_to(operator(net_1(tape[p - 1])))
            else:  # APPLY
                pos[t + 1].set_to(pos[t])
                with arg1[b] as a:
                    first[t, b].set_to(reg[t, a])
                with arg2[b] as a:
                    second[t, b].set_to(reg[t, a])
                with arg3[b] as a:
                    third[t, b].set_to(reg[t, a])
                # APPLY(a, b, op): op 0 +, 1 -, 2 x, 3 /; a register
                # holding no operator gives M. One mixture of the four
                # binary operations costs far less than a table of three
                # arguments.
                if third[t, b] == 0:
                    result[t, b].set_to(add(first[t, b], second[t, b]))
                elif third[t, b] == 1:
                    result[t, b].set_to(subtract(first[t, b], second[t, b]))
                elif third[t, b] == 2:
                    result[t, b].set_to(multiply(first[t, b], second[t, b]))
                elif third[t, b] == 3:
                    result[t, b].set_to(divide(first[t, b], second[t, b]))
                else:
                    result[t, b].set_to(M)
            for r in range(n_blocks):
                if r == b:
                    reg[t + 1, r].set_to(result[t, b])
                else:
                    reg[t + 1, r].set_to(reg[t, r])
            ip[t + 1].set_to(goto_if(pos[t + 1], goto[b]))

with return_register as r:
    answer.set_to(reg[n_steps, r])
