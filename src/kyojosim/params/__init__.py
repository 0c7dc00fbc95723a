"""What a run is: the scenario schema, scenario and experiment files, and the tables of Japan's municipalities.

ODD: state variables and scales (the parameters), input data.
"""
