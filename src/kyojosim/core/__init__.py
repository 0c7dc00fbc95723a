"""The residents and their ties, and the yearly processes that change them.

ODD: entities and state variables (population, network, communities, trust), and the yearly
submodels (demography, life course, ICT uptake, community dynamics).
"""
