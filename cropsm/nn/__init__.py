"""The multilayer cropland network of Liu et al. (2021) and its pattern scenarios."""
