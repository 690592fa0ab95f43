using AftLab.Runtime;
using ScottPlot;

namespace AftLab.Training;

/// <summary>Square grey images laid out in a grid and saved as one PNG.</summary>
public static class ImageGrid
{
    const int Gap = 2;

    /// <param name="images">One image per row, <paramref name="side"/>² grey levels in raster order (0 black, 255 white).</param>
    public static void Save(byte[,] images, int side, string path, string title)
    {
        var count = images.GetLength(0);
        var columns = (int)Math.Ceiling(Math.Sqrt(count));
        var rows = (count + columns - 1) / columns;
        var cell = side + Gap;
        var mosaic = new double[rows * cell - Gap, columns * cell - Gap];
        for (var y = 0; y < mosaic.GetLength(0); y++)
            for (var x = 0; x < mosaic.GetLength(1); x++)
                mosaic[y, x] = double.NaN;                                 // gaps show the background
        for (var n = 0; n < count; n++)
            for (var i = 0; i < side * side; i++)
                mosaic[n / columns * cell + i / side, n % columns * cell + i % side] = images[n, i];

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(mosaic);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.ManualRange = new ScottPlot.Range(0, 255);
        plot.Axes.Frameless();
        plot.HideGrid();
        plot.Title(title);
        AtomicFile.Write(path, temporary => plot.SavePng(temporary, columns * cell * 8, rows * cell * 8 + 60));
    }
}
