"""One circuit, two simulators: a small synfire-gated circuit run in Brian2 and in Lava (lava-nc).

    python examples/lava_sgsc_circuit.py
"""
from spikingbp.lava import verify_sgsc

result = verify_sgsc(seed=0, trials=6)
print("\n".join(result.lines()))
print(result.verification.report)
