"""What is observed and recorded: tables and metrics, yearly measures, つながり力, Community Value, the survey.

ODD: observation.
"""
