//! Survey data: codebook, loading, validation, measures, simulation.
