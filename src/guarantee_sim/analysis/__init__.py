"""Analysis of rows: statistics, sensitivity, scenario discovery."""
