using System;
using System.Collections.Generic;
using Google.Protobuf;
using Onnx;

namespace MetricLearning.Onnx.Export;

/// <summary>One attribute of an ONNX node (<c>kernel_shape</c>, <c>epsilon</c>, ...), made by its typed factories.</summary>
public sealed class OnnxAttribute
{
    private readonly AttributeProto _proto;

    private OnnxAttribute(AttributeProto proto) => _proto = proto;

    /// <summary>The attribute's name.</summary>
    public string Name => _proto.Name;

    /// <summary>An integer attribute.</summary>
    /// <param name="name">The attribute's name, as the operator's specification spells it.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Int(string name, long value) =>
        new(new AttributeProto { Name = CheckName(name), Type = AttributeProto.Types.AttributeType.Int, I = value });

    /// <summary>A list-of-integers attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">Its values.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Ints(string name, IEnumerable<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var proto = new AttributeProto { Name = CheckName(name), Type = AttributeProto.Types.AttributeType.Ints };
        proto.Ints.AddRange(values);
        return new OnnxAttribute(proto);
    }

    /// <summary>A floating-point attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Float(string name, float value) =>
        new(new AttributeProto { Name = CheckName(name), Type = AttributeProto.Types.AttributeType.Float, F = value });

    /// <summary>A text attribute (<c>auto_pad</c>, <c>approximate</c>, ...).</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Text(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(new AttributeProto { Name = CheckName(name), Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });
    }

    internal AttributeProto ToProto() => _proto.Clone();

    private static string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }
}
