namespace AftLab.Tests.Interop;

/// <summary>
/// The Python half of the round trip, for every exported model in one process (importing torch costs seconds): load
/// the export with the aftdsl_torch.py shipped in its folder, run it on the C# model's input, then perturb every
/// weight, save the state dict with torch.save and run it again. Outputs go back as raw float32. For one model it also
/// saves a state dict with a key left out, one added and one of the wrong shape.
/// </summary>
public static class RoundTripScript
{
    public const string FileName = "roundtrip.py";

    public const string Source = """
        import importlib.util, json, os, sys, time
        import torch

        started = time.perf_counter()
        jobs = json.load(open(sys.argv[1], encoding="utf-8"))
        for job in jobs:
            folder = job["folder"]
            spec = importlib.util.spec_from_file_location("aftdsl_torch_" + job["name"].replace("-", "_"), os.path.join(folder, "aftdsl_torch.py"))
            aftdsl_torch = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(aftdsl_torch)
            model = aftdsl_torch.load(folder)
            dtype = {"int64": torch.int64, "float32": torch.float32}[job["input_dtype"]]
            with open(os.path.join(folder, "input.bin"), "rb") as file:
                x = torch.frombuffer(bytearray(file.read()), dtype=dtype).reshape(job["input_shape"])

            def write(name, tensor):
                with open(os.path.join(folder, name), "wb") as file:
                    file.write(tensor.detach().contiguous().to(torch.float32).numpy().tobytes())

            with torch.no_grad():
                write("pytorch-output.bin", model(x))
                torch.manual_seed(job["seed"])
                for name, parameter in model.named_parameters():
                    parameter.add_(torch.randn_like(parameter) * 0.05)
                torch.save(model.state_dict(), os.path.join(folder, "perturbed.pt"))
                write("perturbed-output.bin", model(x))
                if job.get("broken"):
                    # One key left out, one added, one cut short: an import must name all three.
                    state = model.state_dict()
                    del state["embed.weight"]
                    state["extra.scale"] = torch.ones(3)
                    state["head.weight"] = state["head.weight"][:, :-1].clone()
                    torch.save(state, os.path.join(folder, "broken.pt"))
        print(f"python: {len(jobs)} models in {time.perf_counter() - started:.1f} s after importing torch {torch.__version__}")
        """;
}
