"""Write the exact reference diffusion models (Gaussian mixtures) as ONNX model folders.

How to run (from the repository root, after `npm install`, because the ONNX graphs are
checked by running them in onnxruntime-node):

    /usr/bin/python3 tools/exact_model/make_exact_model.py

It needs Python 3 with numpy, torch and onnx (Debian's python3-torch and python3-onnx are
enough) and `node`. The output is deterministic: running it again rewrites byte-identical
files in resources/exact/gmm-3x8x8 and resources/exact/gmm-3x32x32.

The model. Discrete VP diffusion with T = 1000 steps and the `linear` schedule
(beta = linspace(1e-4, 0.02, 1000), abar = cumprod(1 - beta)); data x0 in R^D (D = C*H*W)
is a mixture of K isotropic Gaussians N(mu_k, s_k^2 I) with weights pi_k. With
a = sqrt(abar_t), x_t = a x0 + sqrt(1 - a^2) e is the mixture of N(a mu_k, v_k I),
v_k = a^2 s_k^2 + 1 - a^2, so everything a sampler needs is closed form:

    logits_k(x) = log pi_k - ||x - a mu_k||^2 / (2 v_k) - (D/2) log v_k   (log p(x, k) + const)
    r           = softmax(logits)                                        (p(k | x_t))
    score       = sum_k r_k * (-(x - a mu_k) / v_k)
    eps         = -sqrt(1 - a^2) * score
    grad_x log softmax(logits)[y] = -(x - a mu_y)/v_y - score = sum_k (r_k - [k = y])/v_k (x - a mu_k)

The graphs compute in float64 internally (float32 in and out) so that their only error is
the float32 rounding of inputs, outputs and of the schedule tables. They look up abar and
1 - abar from two float32 tables (both computed in float64): 1 - float32(abar) would lose
the relative precision of sigma^2 = 1 - abar near t = 0 (abar[0] = 0.9999), about 2e-5 of eps.
"""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPSET = 17
T = 1000
SEED = 20240611
LABELS = ["stripes", "rings", "checks"]
WEIGHTS = [0.45, 0.35, 0.20]
# Component widths. Narrower components (0.15-0.35 was tried) make the class posterior switch
# so sharply in lambda that DPM-Solver++ and UniPC stay pre-asymptotic up to ~20 steps
# (their error rises from 10 to 20 steps); with these widths every solver is in its
# asymptotic regime from 10 steps, so the convergence tests measure orders, not transients.
# docs/solvers.md reports both.
STDS = [0.3, 0.4, 0.5]
MEAN_DECIMALS = 6  # means are stored rounded so gmm.json is short and exact in every reader
CHECK_TOLERANCE = 1e-4

SCHEDULER_CONFIG = {
    "num_train_timesteps": T,
    "beta_schedule": "linear",
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "prediction_type": "epsilon",
    "clip_sample": False,
    "clip_sample_range": 1.0,
    "set_alpha_to_one": True,
    "timestep_spacing": "linspace",
    "steps_offset": 0,
}


def alphas_cumprod():
    """abar_t = prod_{i<=t} (1 - beta_i), beta = linspace(1e-4, 0.02, T), in float64."""
    betas = np.linspace(0.0001, 0.02, T, dtype=np.float64)
    return np.cumprod(1.0 - betas)


# ---------------------------------------------------------------------------------------
# Means: smooth colour patterns on pixel-centre coordinates u, v in [-1, 1], so both
# resolutions show the same three pictures.


def pattern_values(kind, u, v, rng):
    """A smooth pattern in [-1, 1] with seeded frequency, orientation and phase."""
    phase = rng.uniform(0.0, 2.0 * np.pi)
    if kind == "stripes":
        theta = rng.uniform(0.0, np.pi)
        freq = rng.uniform(1.0, 1.5)
        return np.sin(np.pi * freq * (np.cos(theta) * u + np.sin(theta) * v) + phase)
    if kind == "rings":
        cx, cy = rng.uniform(-0.3, 0.3, size=2)
        freq = rng.uniform(1.2, 1.8)
        return np.cos(np.pi * freq * np.hypot(u - cx, v - cy) + phase)
    if kind == "checks":
        freq = rng.uniform(0.8, 1.2)
        phase2 = rng.uniform(0.0, 2.0 * np.pi)
        return np.sin(np.pi * freq * u + phase) * np.sin(np.pi * freq * v + phase2)
    raise ValueError(kind)


def make_means(channels, height, width):
    """mu_k[c] = 0.8 (alpha_kc p_k + beta_kc) with |alpha| + |beta| <= 1, so |mu| <= 0.8."""
    rng = np.random.default_rng(SEED)
    v, u = np.meshgrid(
        (2.0 * np.arange(height) + 1.0) / height - 1.0,
        (2.0 * np.arange(width) + 1.0) / width - 1.0,
        indexing="ij",
    )
    means = []
    for kind in LABELS:
        p = pattern_values(kind, u, v, rng)
        alpha = rng.uniform(0.4, 0.7, size=channels) * rng.choice([-1.0, 1.0], size=channels)
        beta = (1.0 - np.abs(alpha)) * rng.uniform(-0.6, 0.6, size=channels)
        means.append(0.8 * (alpha[:, None, None] * p[None] + beta[:, None, None]))
    return np.round(np.stack(means).reshape(len(LABELS), -1), MEAN_DECIMALS)


# ---------------------------------------------------------------------------------------
# ONNX graphs.


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def posterior_nodes(timestep_is_float, dim, num_components):
    """Nodes from (sample, timestep) to diff = x - a mu [B,K,D], v [B,K], logits, r.

    Float timesteps are rounded to the nearest training step (Round, then Cast to int64)
    before the abar lookup, as a continuous-time sampler's timesteps are.
    """
    nodes = []
    if timestep_is_float:
        nodes += [
            helper.make_node("Round", ["timestep"], ["t_round"]),
            helper.make_node("Cast", ["t_round"], ["t_index"], to=TensorProto.INT64),
        ]
        t_index = "t_index"
    else:
        t_index = "timestep"
    nodes += [
        helper.make_node("Gather", ["abar_table", t_index], ["abar_f32"]),
        helper.make_node("Gather", ["one_minus_abar_table", t_index], ["one_minus_abar_f32"]),
        helper.make_node("Cast", ["abar_f32"], ["abar"], to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["one_minus_abar_f32"], ["one_minus_abar"], to=TensorProto.DOUBLE),
        # Both as [B|1, 1] (per component) and [B|1, 1, 1] (per pixel).
        helper.make_node("Reshape", ["abar", "shape_col"], ["abar_col"]),
        helper.make_node("Reshape", ["one_minus_abar", "shape_col"], ["one_minus_abar_col"]),
        helper.make_node("Reshape", ["abar", "shape_col3"], ["abar_col3"]),
        helper.make_node("Reshape", ["one_minus_abar", "shape_col3"], ["one_minus_abar_col3"]),
        helper.make_node("Sqrt", ["abar_col3"], ["a"]),
        helper.make_node("Sqrt", ["one_minus_abar_col3"], ["sigma"]),
        # x as [B, 1, D] in float64; diff = x - a mu as [B, K, D].
        helper.make_node("Reshape", ["sample", "shape_flat"], ["x_f32"]),
        helper.make_node("Cast", ["x_f32"], ["x"], to=TensorProto.DOUBLE),
        helper.make_node("Mul", ["a", "means"], ["a_mu"]),
        helper.make_node("Sub", ["x", "a_mu"], ["diff"]),
        helper.make_node("Mul", ["diff", "diff"], ["diff_sq"]),
        helper.make_node("ReduceSum", ["diff_sq", "axis_last"], ["dist2"], keepdims=0),
        # v = abar s^2 + (1 - abar)
        helper.make_node("Mul", ["abar_col", "s2"], ["abar_s2"]),
        helper.make_node("Add", ["abar_s2", "one_minus_abar_col"], ["v"]),
        # logits = log pi - dist2 / (2 v) - (D/2) log v
        helper.make_node("Mul", ["two", "v"], ["two_v"]),
        helper.make_node("Div", ["dist2", "two_v"], ["quad"]),
        helper.make_node("Log", ["v"], ["log_v"]),
        helper.make_node("Mul", ["half_dim", "log_v"], ["norm"]),
        helper.make_node("Sub", ["log_pi", "quad"], ["logits_a"]),
        helper.make_node("Sub", ["logits_a", "norm"], ["logits64"]),
        helper.make_node("Softmax", ["logits64"], ["r"], axis=-1),
    ]
    stds = np.asarray(STDS)
    inits = [
        const("abar_table", alphas_cumprod().astype(np.float32)),
        const("one_minus_abar_table", (1.0 - alphas_cumprod()).astype(np.float32)),
        const("shape_col", np.array([-1, 1], dtype=np.int64)),
        const("shape_col3", np.array([-1, 1, 1], dtype=np.int64)),
        const("shape_flat", np.array([0, 1, dim], dtype=np.int64)),
        const("axis_last", np.array([2], dtype=np.int64)),
        const("two", np.array(2.0)),
        const("half_dim", np.array(dim / 2.0)),
        const("log_pi", np.log(np.asarray(WEIGHTS))),
        const("s2", stds * stds),
    ]
    assert len(WEIGHTS) == len(STDS) == num_components
    return nodes, inits


def weighted_sum_nodes(weights, out_name):
    """out [B, 1, D] = sum_k weights[b, k] * diff[b, k, :]  via a batched MatMul."""
    return [
        helper.make_node("Unsqueeze", [weights, "axis_1"], [weights + "_3d"]),
        helper.make_node("MatMul", [weights + "_3d", "diff"], [out_name]),
    ]


def image_output(src64, name):
    """Cast a [B, 1, D] float64 tensor to float32 and give it the sample's shape."""
    return [
        helper.make_node("Cast", [src64], [src64 + "_f32"], to=TensorProto.FLOAT),
        helper.make_node("Shape", ["sample"], ["sample_shape"]),
        helper.make_node("Reshape", [src64 + "_f32", "sample_shape"], [name]),
    ]


def sample_input(chw):
    return helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", *chw])


def build_unet(chw, means, timestep_is_float):
    """eps = sigma * sum_k (r_k / v_k) (x - a mu_k)."""
    dim = int(np.prod(chw))
    nodes, inits = posterior_nodes(timestep_is_float, dim, means.shape[0])
    nodes += [helper.make_node("Div", ["r", "v"], ["w_eps"])]
    nodes += weighted_sum_nodes("w_eps", "eps_dir")
    nodes += [helper.make_node("Mul", ["sigma", "eps_dir"], ["eps64"])]
    nodes += image_output("eps64", "out_sample")
    inits += [const("means", means), const("axis_1", np.array([1], dtype=np.int64))]
    if timestep_is_float:
        timestep = helper.make_tensor_value_info("timestep", TensorProto.FLOAT, [1])
    else:
        timestep = helper.make_tensor_value_info("timestep", TensorProto.INT64, ["batch"])
    graph = helper.make_graph(
        nodes,
        "exact_gmm_unet",
        [sample_input(chw), timestep],
        [helper.make_tensor_value_info("out_sample", TensorProto.FLOAT, ["batch", *chw])],
        inits,
    )
    return finish_model(graph, "Exact Gaussian-mixture noise prediction eps(x_t, t)")


def build_classifier(chw, means):
    """logits, and grad = sum_k ((r_k - onehot_k) / v_k) (x - a mu_k) = d log r_y / dx."""
    dim = int(np.prod(chw))
    num_components = means.shape[0]
    nodes, inits = posterior_nodes(True, dim, num_components)
    nodes += [
        # Gather from the identity (not Equal) so an out-of-range label is an error.
        helper.make_node("Gather", ["eye", "class_labels"], ["onehot"]),
        helper.make_node("Sub", ["r", "onehot"], ["r_minus_onehot"]),
        helper.make_node("Div", ["r_minus_onehot", "v"], ["w_grad"]),
    ]
    nodes += weighted_sum_nodes("w_grad", "grad64")
    nodes += image_output("grad64", "grad")
    nodes += [helper.make_node("Cast", ["logits64"], ["logits"], to=TensorProto.FLOAT)]
    inits += [
        const("means", means),
        const("axis_1", np.array([1], dtype=np.int64)),
        const("eye", np.eye(num_components)),
    ]
    graph = helper.make_graph(
        nodes,
        "exact_gmm_classifier",
        [
            sample_input(chw),
            helper.make_tensor_value_info("timestep", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("class_labels", TensorProto.INT64, ["batch"]),
        ],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", num_components]),
            helper.make_tensor_value_info("grad", TensorProto.FLOAT, ["batch", *chw]),
        ],
        inits,
    )
    return finish_model(graph, "Exact Gaussian-mixture class posterior logits and d log p(y|x_t)/dx")


def finish_model(graph, doc):
    graph.doc_string = doc
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="split-studio make_exact_model.py",
    )
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------------------
# Verification: torch closed form (float64) and autograd against the graphs run in
# onnxruntime-node (Python has no ONNX runtime here; the studio uses the Node one anyway).

ORT_RUNNER = r"""
import * as ort from 'onnxruntime-node';
let text = '';
for await (const chunk of process.stdin) text += chunk;
const jobs = JSON.parse(text);
const results = [];
for (const job of jobs) {
  const session = await ort.InferenceSession.create(job.model);
  const feeds = {};
  for (const [name, f] of Object.entries(job.feeds)) {
    const data = f.type === 'int64' ? BigInt64Array.from(f.data.map(BigInt)) : Float32Array.from(f.data);
    feeds[name] = new ort.Tensor(f.type, data, f.dims);
  }
  const out = await session.run(feeds);
  const res = {};
  for (const [name, t] of Object.entries(out)) res[name] = { dims: t.dims, data: Array.from(t.data) };
  results.push(res);
}
process.stdout.write(JSON.stringify(results));
"""


def run_onnx(jobs):
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", ORT_RUNNER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise SystemExit("onnxruntime-node check failed to run:\n" + proc.stderr)
    return [
        {k: np.asarray(v["data"], dtype=np.float64).reshape(v["dims"]) for k, v in r.items()}
        for r in json.loads(proc.stdout)
    ]


def torch_logits(x, abar, means):
    """Closed-form logits [B, K] for x [B, D] and abar [B], in float64."""
    a = torch.sqrt(abar)[:, None]
    s2 = torch.tensor(STDS, dtype=torch.float64) ** 2
    v = a * a * s2 + 1.0 - a * a
    dist2 = ((x[:, None, :] - a[:, :, None] * means[None]) ** 2).sum(-1)
    log_pi = torch.log(torch.tensor(WEIGHTS, dtype=torch.float64))
    return log_pi - dist2 / (2.0 * v) - 0.5 * x.shape[1] * torch.log(v)


def torch_reference(x, abar, labels, means):
    """(eps, logits, grad) with eps = -sqrt(1-abar) * d/dx logsumexp(logits) and
    grad = d/dx log_softmax(logits)[y], both by autograd."""
    x = x.clone().requires_grad_(True)
    logits = torch_logits(x, abar, means)
    (score,) = torch.autograd.grad(torch.logsumexp(logits, -1).sum(), x, retain_graph=True)
    log_r = torch.log_softmax(logits, -1)
    (grad,) = torch.autograd.grad(log_r.gather(1, labels[:, None]).sum(), x)
    eps = -torch.sqrt(1.0 - abar)[:, None] * score
    return eps.numpy(), logits.detach().numpy(), grad.numpy()


def relative_error(got, want):
    """max |got - want| / max(max |want|, 1) per batch item, worst item.

    The floor of 1 (the scale of eps) keeps the measure meaningful where the exact value
    vanishes, e.g. grad when the posterior is already certain of the label.
    """
    got = got.reshape(got.shape[0], -1)
    want = want.reshape(want.shape[0], -1)
    return float((np.abs(got - want).max(1) / np.maximum(np.abs(want).max(1), 1.0)).max())


def check_folder(folder, chw, means, unet_float_timestep):
    """Run both graphs on random and on-distribution inputs; raise if any output is off."""
    rng = np.random.default_rng(SEED + 1)
    abar_table = alphas_cumprod()
    dim = int(np.prod(chw))
    cases = []
    for batch, t_list in [(1, [0]), (1, [999]), (3, [1, 1, 1]), (3, [500, 500, 500]), (2, [37, 37]),
                          (3, [0, 500, 999]), (2, [250, 800])]:
        if unet_float_timestep and len(set(t_list)) > 1:
            continue  # that unet takes one timestep for the whole batch
        t = np.asarray(t_list)
        abar = abar_table[t]
        comp = rng.choice(len(WEIGHTS), size=batch, p=WEIGHTS)
        x0 = means[comp] + np.asarray(STDS)[comp][:, None] * rng.standard_normal((batch, dim))
        on_distribution = np.sqrt(abar)[:, None] * x0 + np.sqrt(1 - abar)[:, None] * rng.standard_normal((batch, dim))
        for x in [on_distribution, rng.standard_normal((batch, dim))]:
            cases.append((np.float32(x).astype(np.float64), t, abar, rng.integers(0, len(WEIGHTS), size=batch)))

    jobs = []
    for x, t, _, labels in cases:
        dims = [x.shape[0], *chw]
        data = x.ravel().tolist()
        # Float timesteps are fed 0.4 off the training step to check the graphs round them.
        t_float = (t + np.where(t < T - 1, 0.4, -0.4)).tolist()
        if unet_float_timestep:
            ts = {"type": "float32", "dims": [1], "data": t_float[:1]}
        else:
            ts = {"type": "int64", "dims": [len(t)], "data": t.tolist()}
        jobs.append({"model": os.path.join(folder, "unet", "model.onnx"),
                     "feeds": {"sample": {"type": "float32", "dims": dims, "data": data}, "timestep": ts}})
        jobs.append({"model": os.path.join(folder, "classifier", "model.onnx"),
                     "feeds": {"sample": {"type": "float32", "dims": dims, "data": data},
                               "timestep": {"type": "float32", "dims": [len(t)], "data": t_float},
                               "class_labels": {"type": "int64", "dims": [len(t)], "data": labels.tolist()}}})
    results = run_onnx(jobs)

    worst = {"eps": 0.0, "logits": 0.0, "grad": 0.0}
    mu = torch.from_numpy(means)
    for i, (x, t, abar, labels) in enumerate(cases):
        eps, logits, grad = torch_reference(torch.from_numpy(x), torch.from_numpy(abar), torch.from_numpy(labels), mu)
        unet, clf = results[2 * i], results[2 * i + 1]
        for name, got, want in [("eps", unet["out_sample"], eps), ("logits", clf["logits"], logits),
                                ("grad", clf["grad"], grad)]:
            err = relative_error(got, want)
            worst[name] = max(worst[name], err)
            if not err <= CHECK_TOLERANCE:
                raise SystemExit(f"{folder}: ONNX {name} differs from torch by {err:.3g} relative at t={t.tolist()}")
    return worst


# ---------------------------------------------------------------------------------------
# Folder writing.


def write_json(path, value, indent=2):
    with open(path, "w", encoding="utf-8") as f:
        if indent is None:
            json.dump(value, f, separators=(",", ":"))
        else:
            json.dump(value, f, indent=indent)
        f.write("\n")


def write_folder(chw, unet_float_timestep):
    channels, height, width = chw
    folder = os.path.join(REPO, "resources", "exact", f"gmm-{channels}x{height}x{width}")
    for sub in ["unet", "classifier", "scheduler"]:
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    means = make_means(channels, height, width)

    write_json(os.path.join(folder, "model_index.json"), {
        "_class_name": "SplitStudioExactGaussianMixture",
        "unet": ["onnx", "model"],
        "classifier": ["onnx", "model"],
        "scheduler": ["split-studio", "ddim"],
    })
    write_json(os.path.join(folder, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    write_json(os.path.join(folder, "classifier", "config.json"), {"num_classes": len(LABELS), "labels": LABELS})
    write_json(os.path.join(folder, "gmm.json"), {
        "format": "split-studio-gaussian-mixture",
        "version": 1,
        "seed": SEED,
        "channels": channels,
        "height": height,
        "width": width,
        "labels": LABELS,
        "weights": WEIGHTS,
        "stds": STDS,
        "means": [float(m) for m in means.ravel()],
    }, indent=None)
    write_json(os.path.join(folder, "studio.json"), {
        "name": f"Exact Gaussian mixture {channels}x{height}x{width}",
        "kind": "exact-reference",
        "defaults": {"solver": "stsp4", "steps": 20, "guidance": 1},
        "license": "generated by tools/exact_model/make_exact_model.py, public domain",
        "description": "A three-class Gaussian mixture of smooth colour patterns (stripes, rings, checks) "
                       "whose noise prediction and classifier gradient are exact closed forms, "
                       "for measuring samplers' accuracy and convergence order.",
    })
    onnx.save(build_unet(chw, means, unet_float_timestep), os.path.join(folder, "unet", "model.onnx"))
    onnx.save(build_classifier(chw, means), os.path.join(folder, "classifier", "model.onnx"))
    return folder, means


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files)


def main():
    for chw, unet_float_timestep in [((3, 8, 8), False), ((3, 32, 32), True)]:
        folder, means = write_folder(chw, unet_float_timestep)
        worst = check_folder(folder, chw, means, unet_float_timestep)
        summary = ", ".join(f"{k} {v:.2g}" for k, v in worst.items())
        print(f"{os.path.relpath(folder, REPO)}: {folder_size(folder)} bytes; ONNX vs torch max relative error: {summary}")


if __name__ == "__main__":
    sys.exit(main())
