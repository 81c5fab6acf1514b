using System.IO;
using FluentAssertions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit;

namespace MetricLearning.SearchService.Tests;

/// <summary>Every API test again, with the model exported to ONNX and served by ONNX Runtime (--runtime onnx): the same answers.</summary>
public sealed class OnnxApiTests : ApiTests
{
    private readonly ServiceFiles _files;

    public OnnxApiTests(ServiceFiles files)
        : base(files) => _files = files;

    protected override string Runtime => "onnx";

    [Fact]
    public void With_the_onnx_runtime_a_model_folder_or_an_unknown_runtime_stops_the_service_naming_the_setting()
    {
        using var folderAsOnnx = Service(_files.ModelFolder, "onnx");
        using var unknown = Service(_files.OnnxModelPath, "tensorflow");

        folderAsOnnx.Invoking(s => s.CreateClient()).Should().Throw<FileNotFoundException>().WithMessage("*SearchService:Model (--model)*--runtime onnx*");
        unknown.Invoking(s => s.CreateClient()).Should().Throw<InvalidDataException>().WithMessage("*SearchService:Runtime (--runtime)*tensorflow*torch or onnx*");
    }

    private WebApplicationFactory<global::SearchService.SearchServiceOptions> Service(string model, string runtime) =>
        new WebApplicationFactory<global::SearchService.SearchServiceOptions>().WithWebHostBuilder(host =>
        {
            host.UseSetting("SearchService:Model", model);
            host.UseSetting("SearchService:Runtime", runtime);
            host.UseSetting("SearchService:Index", _files.ExactIndexPath);
            host.UseSetting("SearchService:Images", _files.ImagesPath);
        });
}

/// <summary>Every browser test again, with the service started with --runtime onnx on the exported model.</summary>
public sealed class OnnxBrowserTests : BrowserTests
{
    public OnnxBrowserTests(ServiceFiles files)
        : base(files)
    {
    }

    protected override string Runtime => "onnx";
}
