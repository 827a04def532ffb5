"""The Lehmer generator x <- 16807 x mod (2^31 - 1) (Park and Miller's minimal standard), as eRBP's blank-out
synapses run it in Brian2 code: every product stays below 2^53, so float64 arithmetic is exact and Brian2's
C++, its numpy target and plain numpy draw the same numbers. Brian2-free."""
MODULUS = 2147483647      # 2^31 - 1, prime
MULTIPLIER = 16807        # 7^5, a primitive root: the period is 2^31 - 2
SPLIT = 65536             # a product key x seed (both < 2^31) is taken in two halves of seed, each below 2^47

__all__ = ["MODULUS", "MULTIPLIER", "SPLIT"]
