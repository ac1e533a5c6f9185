"""Socio-economic costs avoided: who pays, who saves, and how sure we are.

    catalogue.py    unit costs (with payer and source), day/night equivalence, unpriced use
    prices.py       CPI to one price year, currency conversion, discounting
    programme.py    programme cost per participant-year, break-even participants
    designs.py      windows around the anchor, pre/post and difference-in-differences
    bootstrap.py    person-level bootstrap, percentile and BCa intervals
    outputs.py      estimates per stratum, the pipeline's Python marts, CLI text
    sensitivity.py  one-way sensitivity (tornado)

The SQL models int_cost_observation, int_service_use_priced, mart_programme_costs and
mart_unpriced_service_use build the parameter-free inputs; everything that depends on a
parameter (window, price year, currency, discount rate, bootstrap) is computed here.
"""

from hfeval.costs.designs import OBSERVATION_NOTE, PREPOST_CAVEAT, CostSettings
from hfeval.costs.outputs import cost, estimate, read_inputs, result_lines
from hfeval.costs.prices import PriceError

__all__ = ["OBSERVATION_NOTE", "PREPOST_CAVEAT", "CostSettings", "PriceError", "cost",
           "estimate", "read_inputs", "result_lines"]
