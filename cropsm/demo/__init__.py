"""The embedded demo world: real geography, generated weather, a soil-water truth and stations."""
