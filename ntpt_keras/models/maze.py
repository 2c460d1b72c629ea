# The street-sign maze of Figure 1 of "Differentiable Programs with Neural
# Libraries" (Gaunt et al., 2017). It differs from the figure only in its
# evident typos: `final_Y` is set from `Y`, `ishalted` is `is_halted`, and
# the en dash in `reg[T - 1]` is a minus, and the grid is declared [H, W]
# (rows, then columns) to match its use as `img_grid[y, x]`. `goto` is read
# inside the `with` block that binds `i`, where the figure's lost indentation
# put it.
#
# An agent walks a W x H grid of sign images from (init_X, init_Y). The
# learned program (instr, goto) decides when to LOOK at the sign under the
# agent, MOVE in the direction it saw, and count its moves in `reg`; LOOK is
# a learned network. Directions: 0 stop, 1 east, 2 north, 3 west, 4 south.

# constants
max_int = 15; n_instr = 3; T = 45
W = 5; H = 3; w = 28; h = 28

# variables
img_grid = InputTensor(w, h)[H, W]
init_X = Input(W)
init_Y = Input(H)
final_X = Output(W)
final_Y = Output(H)
path_len = Output(max_int)
is_halted_at_end = Output(2)

instr = Param(4)[n_instr]
goto = Param(n_instr)[n_instr]

X = Var(W)[T]
Y = Var(H)[T]
dir = Var(5)[T]
reg = Var(max_int)[T]
instr_ptr = Var(n_instr)[T]
is_halted = Var(2)[T]

# initialization
X[0].set_to(init_X)
Y[0].set_to(init_Y)
dir[0].set_to(1)
reg[0].set_to(0)
instr_ptr[0].set_to(0)


# Discrete operations
@Runtime([max_int], max_int)
def INC(a):
    return (a + 1) % max_int


@Runtime([max_int], max_int)
def DEC(a):
    return (a - 1) % max_int


@Runtime([W, 5], W)
def MOVE_X(x, dir):
    if dir == 1: return (x + 1) % W  # east
    elif dir == 3: return (x - 1) % W  # west
    else: return x


@Runtime([H, 5], H)
def MOVE_Y(y, dir):
    if dir == 2: return (y - 1) % H  # north
    elif dir == 4: return (y + 1) % H  # south
    else: return y


# Helper functions
@Runtime([5], 2)
def eq_zero(dir):
    return 1 if dir == 0 else 0


# Learned operations
@Learn([Tensor(w, h)], 5, hid_sizes=[256, 256])
def LOOK(img):
    pass


for t in range(T - 1):
    is_halted[t].set_to(eq_zero(dir[t]))
    if is_halted[t] == 1:  # halted
        dir[t + 1].set_to(dir[t])
        X[t + 1].set_to(X[t])
        Y[t + 1].set_to(Y[t])
        reg[t + 1].set_to(reg[t])
        instr_ptr[t + 1].set_to(instr_ptr[t])
    elif is_halted[t] == 0:  # not halted
        with instr_ptr[t] as i:
            if instr[i] == 0:  # INC
                reg[t + 1].set_to(INC(reg[t]))
            elif instr[i] == 1:  # DEC
                reg[t + 1].set_to(DEC(reg[t]))
            else:
                reg[t + 1].set_to(reg[t])
            if instr[i] == 2:  # MOVE
                X[t + 1].set_to(MOVE_X(X[t], dir[t]))
                Y[t + 1].set_to(MOVE_Y(Y[t], dir[t]))
            else:
                X[t + 1].set_to(X[t])
                Y[t + 1].set_to(Y[t])
            if instr[i] == 3:  # LOOK
                with X[t] as x:
                    with Y[t] as y:
                        dir[t + 1].set_to(LOOK(img_grid[y, x]))
            else:
                dir[t + 1].set_to(dir[t])
            instr_ptr[t + 1].set_to(goto[i])

final_X.set_to(X[T - 1])
final_Y.set_to(Y[T - 1])
path_len.set_to(reg[T - 1])
is_halted_at_end.set_to(is_halted[T - 2])
