using Xunit;

// torch keeps process-wide state (the RNG behind manual_seed, the thread pool): tests run one at a
// time so that seeded tests are reproducible and timings of one test do not disturb another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
