using Xunit;

// TorchSharp has process-wide native state (seeds, thread count, dispose scopes per thread): run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
