"""The labor layer: time, pay, exposure, appeals and the workers' voice on instructions."""
