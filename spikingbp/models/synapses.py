"""Static (non-plastic) synapses. ``{target}`` is the post-synaptic input variable, filled in by the
circuit builder (``a_in`` for LoihiCUBA, ``I_syn`` for LIF and IF)."""
from spikingbp.models.base import SynapseModel

Static = SynapseModel(
    name="Static",
    equations="""
w : 1 (constant)                      # weight in the post unit's input units (Loihi weight units)
""",
    on_pre="{target}_post += w",
    parameters={},
    post_requires=("{target}",),
    doc="Fixed dimensionless weight, added to the post unit's input when a spike arrives.",
)

StaticCurrent = SynapseModel(
    name="StaticCurrent",
    equations="""
w : amp (constant)                    # current jump per spike
""",
    on_pre="{target}_post += w",
    parameters={},
    post_requires=("{target}",),
    doc="Fixed current jump (amp) added to the post unit's synaptic current when a spike arrives.",
)

StaticVoltage = SynapseModel(
    name="StaticVoltage",
    equations="""
w : volt (constant)                   # voltage jump per spike
""",
    on_pre="{target}_post += w",
    parameters={},
    post_requires=("{target}",),
    doc="Fixed voltage jump (volt) added to the post unit's membrane when a spike arrives (DeltaLIF, DeltaIF).",
)

__all__ = ["Static", "StaticCurrent", "StaticVoltage"]
