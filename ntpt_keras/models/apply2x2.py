# The 2x2 straight-line model of the NTPT paper (section 4.2, Figure 3b) for
# APPLY2x2: a grid of operator images (+ - x /) read through the neural
# library's networks net_0 and net_1, and three integers d1, d2, d3
# preloaded in R0, R1, R2.
#
# The read head starts on the top-left cell and R3 holds what it reads. Each
# of the n_lines lines picks an instruction and writes its result to its own
# immutable register R(l+4):
#   NOOP; MOVE_NORTH/EAST/SOUTH/WEST (move if possible, read the cell);
#   APPLY(Ra, Rb, Rop) (a op b modulo M + 1, op read as an operator).
# Every read applies the network its learned net_choice picks; the program
# returns one register. Cells are numbered 0 1 / 2 3.
M = 18
n_lines = 4
n_inputs = 3
n_registers = n_inputs + 1 + n_lines
n_instr = 6  # NOOP, MOVE_NORTH, MOVE_EAST, MOVE_SOUTH, MOVE_WEST, APPLY
n_reads = n_lines + 1
n_nets = 2
# Which networks a read may apply (models/instances/2x2_hypers.json): 0 or 1 for
# that network only, n_nets for a learned choice (see add2x2.py).
library_nets = Hyper()

grid = InputTensor(28, 28)[2, 2]
d1 = Input(10)
d2 = Input(10)
d3 = Input(10)
answer = Output(M + 1)

instr = Param(n_instr)[n_lines]
arg1 = Param(n_registers)[n_lines]
arg2 = Param(n_registers)[n_lines]
arg3 = Param(n_registers)[n_lines]
net_choice = Param(n_nets)[n_reads]  # of each read: R3's and each line's
return_register = Param(n_registers)

if library_nets < n_nets:
    for read in range(n_reads):
        net_choice[read].set_to_constant(library_nets)

pos = Var(4)[n_lines + 1]
reg = Var(M + 1)[n_registers]
first = Var(M + 1)[n_lines]
second = Var(M + 1)[n_lines]
third = Var(M + 1)[n_lines]


@Runtime([4, n_instr], 4)
def move(cell, instruction):
    row, column = cell // 2, cell % 2
    if instruction == 1: row = max(row - 1, 0)
    elif instruction == 2: column = min(column + 1, 1)
    elif instruction == 3: row = min(row + 1, 1)
    elif instruction == 4: column = max(column - 1, 0)
    return 2 * row + column


@Runtime([10], M + 1)
def number(digit):
    return digit


@Runtime([4], M + 1)
def operator(op):
    return op


@Runtime([M + 1, M + 1, M + 1], M + 1)
def APPLY(a, b, op):
    # 0 +, 1 -, 2 x, 3 / (floor; / 0 gives M). Other values are not
    # operators and give M too, so reading an operator means classifying
    # it into these four classes.
    if op > 3:
        return M
    if op == 3:
        return M if b == 0 else (a // b) % (M + 1)
    if op == 0: return (a + b) % (M + 1)
    if op == 1: return (a - b) % (M + 1)
    return (a * b) % (M + 1)


@Learn([Tensor(28, 28)], 10, hid_sizes=[256, 256])
def net_0(image):
    pass


@Learn([Tensor(28, 28)], 4, hid_sizes=[256, 256])
def net_1(image):
    pass


pos[0].set_to(0)
reg[0].set_to(number(d1))
reg[1].set_to(number(d2))
reg[2].set_to(number(d3))
if net_choice[0] == 0:
    reg[3].set_to(number(net_0(grid[0, 0])))
else:
    reg[3].set_to(operator(net_1(grid[0, 0])))

for l in range(n_lines):
    r = l + n_inputs + 1  # this line's register
    # An argument naming a register not written yet reads 0.
    with arg1[l] as a:
        if a < r:
            first[l].set_to(reg[a])
        else:
            first[l].set_to(0)
    with arg2[l] as b:
        if b < r:
            second[l].set_to(reg[b])
        else:
            second[l].set_to(0)
    with arg3[l] as c:
        if c < r:
            third[l].set_to(reg[c])
        else:
            third[l].set_to(0)
    pos[l + 1].set_to(move(pos[l], instr[l]))
    if instr[l] == 0:  # NOOP
        reg[r].set_to(0)
    elif instr[l] == 5:  # APPLY
        reg[r].set_to(APPLY(first[l], second[l], third[l]))
    else:  # MOVE_*: read the cell the head is on now
        with pos[l + 1] as p:
            if net_choice[l + 1] == 0:
                reg[r].set_to(number(net_0(grid[p // 2, p % 2])))
            else:
                reg[r].set_to(operator(net_1(grid[p // 2, p % 2])))

with return_register as r:
    answer.set_to(reg[r])
