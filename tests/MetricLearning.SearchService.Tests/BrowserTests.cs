using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using FluentAssertions;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;
using Xunit;

namespace MetricLearning.SearchService.Tests;

/// <summary>The page, end to end: the service runs as its own process on a real port, Chromium drives the page.</summary>
/// <summary>The page in a real browser with the model on TorchSharp; <see cref="OnnxBrowserTests"/> runs every test again on ONNX Runtime.</summary>
public class BrowserTests : IClassFixture<ServiceFiles>
{
    private readonly ServiceFiles _files;

    public BrowserTests(ServiceFiles files) => _files = files;

    /// <summary>The service's --runtime.</summary>
    protected virtual string Runtime => "torch";

    /// <summary>Starts the sample's own executable on a free port and returns its address once it listens.</summary>
    private Process StartService(out string address)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "SearchService.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { dll, "--urls", "http://127.0.0.1:0", "--model", _files.Model(Runtime), "--runtime", Runtime, "--index", _files.ApproximateIndexPath, "--images", _files.ImagesPath, "--examples", _files.ImagesPath })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<string>();
        process.OutputDataReceived += (_, line) =>
        {
            var match = Regex.Match(line.Data ?? "", @"Now listening on: (http://\S+)");
            if (match.Success)
                listening.TrySetResult(match.Groups[1].Value);
        };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
                errors.Enqueue(line.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The search service did not start listening within 60 s. It wrote: {string.Join(Environment.NewLine, errors)}");
        }

        address = listening.Task.Result;
        return process;
    }

    private static ChromeDriver Browser()
    {
        var options = new ChromeOptions { BinaryLocation = BrowserFactAttribute.Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,800");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(BrowserFactAttribute.ChromeDriver)!, Path.GetFileName(BrowserFactAttribute.ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts the service, opens its page in Chromium, lets <paramref name="act"/> use it, and stops the service whatever happens.</summary>
    private void OnThePage(Action<ChromeDriver> act)
    {
        using var service = StartService(out string address);
        try
        {
            using var browser = Browser();
            browser.Navigate().GoToUrl(address + "/");
            act(browser);
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            service.WaitForExit();
        }
    }

    [BrowserFact]
    public void A_person_uploads_an_indexed_image_and_then_draws_a_digit_and_sees_neighbours_on_the_page() => OnThePage(browser =>
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30));

        browser.FindElement(By.Id("upload")).SendKeys(_files.Png(42));
        wait.Until(b => b.FindElements(By.CssSelector("#results figure.result")).Count == 10);
        var first = browser.FindElements(By.CssSelector("#results figure.result"))[0];
        first.GetAttribute("data-key").Should().Be("42", "the uploaded picture is indexed image 42");
        first.GetAttribute("data-label").Should().Be(_files.Labels[42].ToString(System.Globalization.CultureInfo.InvariantCulture));
        first.FindElement(By.TagName("img")).GetAttribute("src").Should().EndWith("/images/42.png");
        first.Text.Should().Contain("sim 1.000");

        browser.FindElement(By.Id("clear")).Click();
        wait.Until(b => b.FindElements(By.CssSelector("#results figure.result")).Count == 0);
        var pad = browser.FindElement(By.Id("pad"));
        new Actions(browser).MoveToElement(pad, -60, -80).ClickAndHold().MoveByOffset(60, 0).MoveByOffset(0, 160).MoveByOffset(-60, 0).Release().Perform();
        browser.FindElement(By.XPath("//select[@id='k']/option[text()='5']")).Click();
        browser.FindElement(By.Id("search")).Click();
        wait.Until(b => b.FindElements(By.CssSelector("#results figure.result")).Count == 5);
        browser.FindElement(By.Id("status")).Text.Should().Be("5 nearest neighbours.");
        browser.FindElements(By.CssSelector("#results figure.result")).Select(f => f.GetAttribute("data-key")).Should().OnlyHaveUniqueItems();

        // The examples here are the indexed images themselves, so an example finds itself first.
        browser.FindElement(By.Id("example")).Click();
        wait.Until(b => b.FindElements(By.CssSelector("#results figure.result")).Count == 5 && b.FindElement(By.Id("results")).Text.Contains("sim 1.000"));
    });

    [BrowserFact]
    public void An_upload_that_is_not_a_picture_shows_the_reason_on_the_page() => OnThePage(browser =>
    {
        string notes = Path.Combine(_files.Folder, "notes.txt");
        File.WriteAllText(notes, "not a picture");

        browser.FindElement(By.Id("upload")).SendKeys(notes);

        new WebDriverWait(browser, TimeSpan.FromSeconds(30)).Until(b => b.FindElement(By.Id("status")).GetAttribute("class") == "error");
        browser.FindElement(By.Id("status")).Text.Should().Contain("not a picture");
    });
}
