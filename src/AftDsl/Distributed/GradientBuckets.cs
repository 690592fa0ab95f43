using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Distributed;

/// <summary>
/// Groups parameters, in their order, into buckets of one dtype and device and at most a given number of bytes (a
/// larger parameter has a bucket of its own), so that gradients travel in a few large reductions instead of one per
/// tensor. The plan depends only on the parameters' shapes and order, so every rank of a job makes the same one.
/// </summary>
internal static class GradientBuckets
{
    public static IReadOnlyList<IReadOnlyList<Parameter>> Plan(IReadOnlyList<Parameter> parameters, long bucketBytes)
    {
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "A bucket holds at least one byte.");
        var buckets = new List<IReadOnlyList<Parameter>>();
        var current = new List<Parameter>();
        long bytes = 0;
        foreach (var parameter in parameters)
        {
            var size = parameter.NumberOfElements * parameter.ElementSize;
            var fits = current.Count == 0 ||
                       (current[0].dtype == parameter.dtype && current[0].device_type == parameter.device_type &&
                        current[0].device_index == parameter.device_index && bytes + size <= bucketBytes);
            if (!fits)
            {
                buckets.Add(current);
                (current, bytes) = ([], 0);
            }
            current.Add(parameter);
            bytes += size;
        }
        if (current.Count > 0) buckets.Add(current);
        return buckets;
    }
}
