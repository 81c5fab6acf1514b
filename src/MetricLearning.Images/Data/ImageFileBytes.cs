using System;
using System.Buffers;
using System.IO;
using System.Runtime.InteropServices;

namespace MetricLearning.Data;

/// <summary>
/// Reads an image file whole into a pooled buffer, with as few system calls as the platform allows: streaming decodes
/// every file of every epoch, and for small images opening and reading the file costs as much as decoding it.
/// </summary>
/// <remarks>
/// On 64-bit Linux (x64, Arm64) the file is read with the C library's <c>open</c>, <c>lseek</c>, <c>pread</c> and
/// <c>close</c>: four system calls where <see cref="File.OpenHandle"/> and <see cref="RandomAccess"/> make seven (two
/// <c>fstat</c>s and a shared advisory <c>flock</c> taken and released), which measured 8-11 us against 15-20 us per
/// 28x28 PNG. The advisory lock is what is given up: a .NET writer holding the file with <see cref="FileShare.None"/>
/// does not keep this reader out (a file cut short while read is reported as such). A named pipe among the images is
/// refused as not a regular file rather than waited on. Elsewhere, and if the C library cannot be called, the .NET
/// path is used, where opening a named pipe waits for a writer.
/// </remarks>
internal static class ImageFileBytes
{
    /// <summary>Largest buffer taken from the shared pool; larger ones (photographs of many megapixels) are allocated and left to the collector, so that the pool does not keep them.</summary>
    private const int LargestPooledBuffer = 8 << 20;

    // The flag values and errors below are Linux's on x64 and Arm64, where off_t (lseek, pread) is 64 bits.
    private const int ReadOnly = 0;                 // O_RDONLY
    private const int CloseOnExec = 0x80000;        // O_CLOEXEC, octal 02000000
    private const int NonBlocking = 0x800;          // O_NONBLOCK, octal 04000
    private const int SeekEnd = 2;                  // SEEK_END
    private const int NotPermitted = 1;             // EPERM
    private const int NoSuchFile = 2;               // ENOENT
    private const int Interrupted = 4;              // EINTR
    private const int WouldBlock = 11;              // EAGAIN
    private const int AccessDenied = 13;            // EACCES
    private const int NotSeekable = 29;             // ESPIPE

    /// <summary>Whether files are read with the C library (64-bit Linux) rather than .NET's file API.</summary>
    /// <remarks>
    /// Set to false, once, if the C library cannot be called (a thread that reads it stale only tries once more); tests
    /// set it to false for a while to exercise .NET's path on Linux.
    /// </remarks>
    internal static bool ReadsWithCLibrary { get; set; } =
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>A buffer of at least <paramref name="length"/> bytes, from the shared pool unless it is large.</summary>
    internal static byte[] Rent(int length) => length <= LargestPooledBuffer ? ArrayPool<byte>.Shared.Rent(length) : new byte[length];

    /// <summary>Gives back a buffer from <see cref="Rent"/> or <see cref="Read"/> (to the shared pool, unless it is large).</summary>
    internal static void Return(byte[] buffer)
    {
        if (buffer.Length <= LargestPooledBuffer)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>The whole file in a buffer from <see cref="Rent"/> (the caller gives it back with <see cref="Return"/>); <paramref name="length"/> bytes of it are the file.</summary>
    /// <exception cref="InvalidDataException">The file is empty, larger than an array holds, was cut short while read, or is not a regular file (a named pipe).</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="IOException">The file could not be opened or read.</exception>
    /// <exception cref="UnauthorizedAccessException">Reading the file is not permitted.</exception>
    internal static byte[] Read(string path, out int length)
    {
        if (ReadsWithCLibrary)
        {
            try
            {
                return ReadWithLibc(path, out length);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                ReadsWithCLibrary = false;
            }
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadAll(RandomAccess.GetLength(file), out length, (buffer, offset, count) => RandomAccess.Read(file, buffer.AsSpan(offset, count), offset));
    }

    private static byte[] ReadWithLibc(string path, out int length)
    {
        // O_NONBLOCK keeps a named pipe among the images from blocking the open until a writer comes. A regular file
        // opened so fails with EAGAIN instead of waiting while another host holds a conflicting lease on it (an SMB or
        // NFS client's): that open is retried without the flag, which a pipe never reaches.
        int descriptor = OpenRetrying(path, ReadOnly | CloseOnExec | NonBlocking);
        if (descriptor < 0 && Marshal.GetLastPInvokeError() == WouldBlock)
            descriptor = OpenRetrying(path, ReadOnly | CloseOnExec);
        if (descriptor < 0)
        {
            // The messages leave the path out: the caller names the file.
            int error = Marshal.GetLastPInvokeError();
            string reason = Marshal.GetPInvokeErrorMessage(error);
            throw error switch
            {
                NoSuchFile => new FileNotFoundException(reason, path),
                AccessDenied or NotPermitted => new UnauthorizedAccessException(reason),
                _ => new IOException(reason),
            };
        }

        try
        {
            long size = lseek(descriptor, 0, SeekEnd);
            if (size < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                throw error == NotSeekable
                    ? new InvalidDataException("it is not a regular file")
                    : new IOException(Marshal.GetPInvokeErrorMessage(error));
            }

            return ReadAll(size, out length, (buffer, offset, count) =>
            {
                nint read;
                while ((read = pread(descriptor, ref buffer[offset], count, offset)) < 0 && Marshal.GetLastPInvokeError() == Interrupted)
                {
                }

                return read >= 0 ? (int)read : throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            });
        }
        finally
        {
            close(descriptor);
        }
    }

    /// <summary>Reads <paramref name="size"/> bytes from the start with <paramref name="readAt"/> (buffer, offset in buffer and file, count) into a pooled buffer.</summary>
    private static byte[] ReadAll(long size, out int length, Func<byte[], int, int, int> readAt)
    {
        if (size == 0)
            throw new InvalidDataException("the file is empty");
        if (size > Array.MaxLength)
            throw new InvalidDataException($"it is {size:N0} bytes, larger than an image file can be here");
        var buffer = Rent((int)size);
        try
        {
            length = 0;
            int read;
            while (length < size && (read = readAt(buffer, length, (int)size - length)) > 0)
                length += read;
            // A file cut short while it is read is named as such (one that grows is read to its old size, and the
            // codec judges those bytes: asking for the size again would cost every file a system call).
            if (length < size)
                throw new InvalidDataException($"it changed while being read ({length:N0} of {size:N0} bytes could be read)");
            return buffer;
        }
        catch
        {
            Return(buffer);
            throw;
        }
    }

    /// <summary>The C library's <c>open</c>, again while a signal interrupts it; a descriptor, or -1 with the error set.</summary>
    private static int OpenRetrying(string path, int flags)
    {
        int descriptor;
        while ((descriptor = open(path, flags)) < 0 && Marshal.GetLastPInvokeError() == Interrupted)
        {
        }

        return descriptor;
    }

    // open is variadic in C; its third argument (the mode) is read only with O_CREAT or O_TMPFILE, so two suffice.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long lseek(int descriptor, long offset, int whence);

    [DllImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static extern nint pread(int descriptor, ref byte buffer, nint count, long offset);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int close(int descriptor);
}
