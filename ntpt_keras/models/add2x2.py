# The 2x2 straight-line model of the NTPT paper (section 4.2, Figure 3a) for
# ADD2x2: a grid of digit images read through the neural library's networks
# net_0 and net_1. `add2x2_ints.py` is the same program over integers.
#
# A read head starts on the top-left cell and R0 holds what it reads. Each
# of the n_lines lines picks an instruction and writes its result to its
# own immutable register R(l+1):
#   NOOP; MOVE_NORTH/EAST/SOUTH/WEST (move if possible, read the cell);
#   ADD(Ra, Rb) (sum modulo M + 1).
# Every read applies the network its learned net_choice picks; the program
# returns one register. Cells are numbered 0 1 / 2 3.
M = 18
n_lines = 4
n_registers = n_lines + 1
n_instr = 6  # NOOP, MOVE_NORTH, MOVE_EAST, MOVE_SOUTH, MOVE_WEST, ADD
n_nets = 2
# Which networks a read may apply (models/instances/2x2_hypers.json): 0 or 1 for
# that network only, n_nets for a learned choice. A task may bring at most
# one untrained network, so the first task of a lifetime reads with net_0
# only (paper, section 4.1).
library_nets = Hyper()

grid = InputTensor(28, 28)[2, 2]
answer = Output(M + 1)

instr = Param(n_instr)[n_lines]
arg1 = Param(n_registers)[n_lines]
arg2 = Param(n_registers)[n_lines]
net_choice = Param(n_nets)[n_registers]  # of each read: R0's and each line's
return_register = Param(n_registers)

if library_nets < n_nets:
    for read in range(n_registers):
        net_choice[read].set_to_constant(library_nets)

pos = Var(4)[n_lines + 1]
reg = Var(M + 1)[n_registers]
first = Var(M + 1)[n_lines]
second = Var(M + 1)[n_lines]


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


@Learn([Tensor(28, 28)], 10, hid_sizes=[256, 256])
def net_0(image):
    pass


@Learn([Tensor(28, 28)], 4, hid_sizes=[256, 256])
def net_1(image):
    pass


@Runtime([M + 1, M + 1], M + 1)
def ADD(a, b):
    return (a + b) % (M + 1)


pos[0].set_to(0)
if net_choice[0] == 0:
    reg[0].set_to(number(net_0(grid[0, 0])))
else:
    reg[0].set_to(operator(net_1(grid[0, 0])))

for l in range(n_lines):
    # An argument naming a register not written yet reads 0.
    with arg1[l] as a:
        if a <= l:
            first[l].set_to(reg[a])
        else:
            first[l].set_to(0)
    with arg2[l] as b:
        if b <= l:
            second[l].set_to(reg[b])
        else:
            second[l].set_to(0)
    pos[l + 1].set_to(move(pos[l], instr[l]))
    if instr[l] == 0:  # NOOP
        reg[l + 1].set_to(0)
    elif instr[l] == 5:  # ADD
        reg[l + 1].set_to(ADD(first[l], second[l]))
    else:  # MOVE_*: read the cell the head is on now
        with pos[l + 1] as p:
            if net_choice[l + 1] == 0:
                reg[l + 1].set_to(number(net_0(grid[p // 2, p % 2])))
            else:
                reg[l + 1].set_to(operator(net_1(grid[p // 2, p % 2])))

with return_register as r:
    answer.set_to(reg[r])
