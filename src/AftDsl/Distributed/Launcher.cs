namespace AftDsl.Distributed;

/// <summary>What started this process, as far as data-parallel training is concerned.</summary>
public enum Launcher
{
    /// <summary>No launcher: one process, world size 1.</summary>
    None,

    /// <summary>Open MPI's <c>mpirun</c> (<c>OMPI_COMM_WORLD_RANK</c>, <c>OMPI_COMM_WORLD_SIZE</c>, <c>OMPI_COMM_WORLD_LOCAL_RANK</c>).</summary>
    Mpirun,

    /// <summary>A torchrun-style environment (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>).</summary>
    Torchrun,
}
