"""The figures HR defends: rollup counts kept with the ratings, report periods, the scoring
formulas, reports per officer, counter, field and unit, their exports and the printable month."""
