#!/usr/bin/python3
"""Runs diffusers' OWN scheduler classes on the exact Gaussian mixture and writes reference vectors
for the engine's diffusers-compatible solvers (euler, euler-a, heun, dpmpp2m, unipc2, ddim with eta):
src/main/core/engine/solvers/vectors/diffusers_vectors.json.

How to run (from the repository root; Debian's torch, no diffusers install needed):

    # the diffusers source, outside the repository (the search tool's `fetch` gives a bare git dir)
    git --git-dir=<bare diffusers repo> archive <commit> src/diffusers | tar -x -C /tmp/diffusers-src
    DIFFUSERS_SRC=/tmp/diffusers-src/src DIFFUSERS_COMMIT=<commit> \\
        /usr/bin/python3 tools/vectors/make_diffusers_vectors.py

Written against huggingface/diffusers 58eb52c0803ea9af3abec60841c2a093bdf1f951 (2026-08-23,
version 0.40.0.dev0), torch 1.13.0a0 (Debian python3-torch), numpy 1.24. It takes a few seconds
and is deterministic (two runs give the same file). DIFFUSERS_COMMIT is only recorded; the file
also records a sha256 of every diffusers source file that was imported, so a different checkout
shows. Rerun when resources/exact/gmm-3x8x8 changes (model_sha256 is recorded).

How diffusers is imported (nothing of diffusers is copied or changed)
-----------------------------------------------------------------------
diffusers' package __init__ files build a lazy table of every pipeline and check the versions of
requests/filelock/numpy through installed-distribution metadata; its utils/__init__ imports every
utility (hub, PEFT, video export, ...). Neither is executed. Instead `import_diffusers()` puts three
empty package objects in sys.modules, `diffusers`, `diffusers.utils` and `diffusers.schedulers`,
whose __path__ is the real source folder, so that every module below is diffusers' real file,
imported by the ordinary import machinery:
  diffusers/utils/{logging, import_utils, outputs, deprecation_utils, distributed_utils, torch_utils}.py,
  diffusers/configuration_utils.py, diffusers/schedulers/scheduling_utils.py and
  diffusers/schedulers/scheduling_{euler_discrete, euler_ancestral_discrete, heun_discrete,
  dpmsolver_multistep, unipc_multistep, ddim}.py.
The `diffusers.utils` shell then carries the names those modules import from it, taken from the
real submodules (BaseOutput, logging, deprecate, is_scipy_available, DummyObject, randn_tensor
lives in the real torch_utils), except four hub-only names that live in utils/hub_utils.py and
utils/constants.py (both need huggingface_hub for real): HUGGINGFACE_CO_RESOLVE_ENDPOINT (a string),
extract_commit_hash, http_user_agent (raise if called) and PushToHubMixin (an empty base class:
it only adds push_to_hub). They are used only by from_pretrained / save_pretrained / push_to_hub,
never here (schedulers are built with from_config from a dict).
Third-party modules that are missing here and that no scheduler code path calls are stubbed:
  - huggingface_hub, huggingface_hub.utils: DDUFEntry, create_repo, hf_hub_download, the four
    hub error classes, is_jinja_available, and validate_hf_hub_args (an identity decorator: it
    wraps from_pretrained at class definition). Every stub function raises if called.
  - tqdm, tqdm.auto: progress bars of utils/logging.py (never shown by a scheduler).
  - torch.xpu, torch.mps (only when this torch lacks them, as 1.13 does): torch_utils.py builds
    device-dispatch tables from torch.xpu.* / torch.mps.* at import; the placeholders raise if
    called and say not available. randn_tensor does not use them.
`packaging` is needed for real (utils/outputs.py compares the torch version at import): the
installed one, or else the copy vendored in Debian's pip / setuptools / pkg_resources, loaded as
`packaging` (a real implementation, not a stub). numpy, torch and typing_extensions are real.

The run (what a diffusers pipeline does)
----------------------------------------
As StableDiffusionPipeline / DDIMPipeline do, in float32 like a float32 UNet pipeline:
    scheduler = Class.from_config(<scheduler_config.json of the model>, **overrides)
    scheduler.set_timesteps(N, device="cpu")
    generator = torch.Generator().manual_seed(SEED)
    latents = randn_tensor(SHAPE, generator=generator, device=cpu, dtype=float32) * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x_in = scheduler.scale_model_input(latents, t)
        out = network(x_in, t)
        latents = scheduler.step(out, t, latents, **kwargs).prev_sample
with kwargs `generator` (and `eta`) when step() accepts them (the pipelines' prepare_extra_step_kwargs),
so ancestral / eta noise is drawn from the same generator after the initial noise, by diffusers'
own randn_tensor (dtype = the model output's, float32). `final` is the last latents (float32),
written as float64 numbers.

The network: the exact Gaussian mixture of resources/exact/gmm-3x8x8/gmm.json (closed form from
tools/vectors/make_solver_vectors.py, float64) on the linear schedule in float64, evaluated at the
training step `round(t)` (half to even; the repository's exact-model convention for float
timesteps, as the ONNX graphs do: tools/exact_model/make_exact_model.py) and at the state x_in
diffusers hands it. With classifier guidance (scale s, one label) the network's output is the
guided eps of docs/samplers.md §3.2 at the same level:
    out = eps(x_in, abar) - s sqrt(1 - abar) grad_x log p(label | x_in, abar),  abar = abar[round(t)]
computed in float64 and rounded to float32 (a float32 network; one network and one classifier call).

Cases
-----
solver     class (from_config + overrides)                               spacings
euler      EulerDiscreteScheduler                                        linspace, leading, trailing, karras
euler-a    EulerAncestralDiscreteScheduler (no use_karras_sigmas here)   linspace, leading, trailing
heun       HeunDiscreteScheduler                                         linspace, leading, trailing, karras
dpmpp2m    DPMSolverMultistepScheduler (defaults: dpmsolver++, order 2,  linspace, leading, trailing, karras
           midpoint, lower_order_final, final_sigmas_type zero)
unipc2     UniPCMultistepScheduler (defaults: bh2, order 2, predict_x0,  linspace, leading, trailing, karras
           lower_order_final, final_sigmas_type zero)
ddim       DDIMScheduler, eta 0 and eta 1 (step(eta=...))               linspace, leading, trailing
linspace = the model's config; leading = timestep_spacing "leading" with steps_offset 1 (Stable
Diffusion's); trailing = "trailing"; karras = use_karras_sigmas True on the linspace config.
Steps 10 and 20; classifier scale 0 and 10 (label LABEL), leading/trailing guided only at 10 steps.

Fields
------
Top level: generator (the command), diffusers_commit (DIFFUSERS_COMMIT as given), diffusers_version,
diffusers_sources_sha256 ({path: sha256} of the diffusers files imported), torch_version, model,
model_sha256 (gmm.json), scheduler_config (the model's scheduler_config.json, passed to from_config),
seed, shape, label, initial_noise (the float32 randn_tensor draw, C-order, each written as the float64
number equal to the float32 value, like solver_vectors.json's noise, whose first 192 values are these),
noise_stream (the next NOISE_STREAM_DRAWS draws of the same shape from the same generator, written the
same way: what euler-a / DDIM eta > 0 consume at their first two steps), cases.
Other float32 data (sigmas, timesteps, init_noise_sigma, input_divisors, final, alphas_cumprod_float32)
is written with 9 significant digits: rounding the number to float32 (Math.fround) gives the value
exactly.
Each case:
- id, solver, scheduler (class name), overrides (the kwargs given to from_config), spacing, steps,
  eta (ddim only), classifier_scale, label (null unguided);
- timesteps: scheduler.timesteps after set_timesteps, exactly (float32 values for the Euler/Heun
  family, int64 for DPM/UniPC/DDIM); the network is called once with each, in order, so
  nfe = len(timesteps) (Heun's list repeats each later timestep: 2N - 1 calls);
  timestep_dtype: that tensor's dtype;
- model_timesteps: round(t) per call, the training step where the exact model is evaluated
  (only when some timestep is fractional);
- sigmas: scheduler.sigmas (float32, exact; the last is the final sigma 0; Heun's list repeats
  interior sigmas like its timesteps), absent for DDIM;
- ddim_prev_timesteps (ddim only): diffusers' `timestep - num_train_timesteps // num_inference_steps`
  per step (< 0 means final_alpha_cumprod = 1), the level each DDIM step lands on;
- init_noise_sigma: scheduler.init_noise_sigma (float32 value; the latents are noise * it);
- input_divisors (sigma-space schedulers): per call, the float32 (sigma**2 + 1) ** 0.5 by which
  scale_model_input divided the latents (checked exactly against its output);
- step_orders (heun, dpmpp2m, unipc2): per step() call the update order observed on the
  scheduler: heun 1 = Euler stage (the last one ends at sigma 0), 2 = Heun correction; dpmpp2m the
  update used (1 first order, 2 second order); unipc2 the predictor order `this_order`;
  unipc_corrector_orders: per step() call the order of the UniC corrector applied at its start
  (0 = none);
- nfe, classifier_calls, noise_draws (randn_tensor draws made by step(): N for euler-a and DDIM
  eta > 0, whose last step draws too, multiplied by 0);
- step_norms: after every step() call, the L2 norm of the latents (float64 of the float32 state),
  to find the first step where another implementation departs;
- final: the final latents, float32 values written with 9 significant digits (exact);
- float32_spread: max |final - final'| where final' is the same run (same noise) with every
  network output rounded to float32 the other way (the neighbouring float32 on the other side of
  the float64 value) and the latents moved by 1 ulp after every step() (up at even flat indices,
  down at odd ones): the scale of the run's sensitivity to float32 rounding (about 2e-7..3e-6 here),
  for sizing a tolerance.
Top level also: alphas_cumprod_float32, diffusers' `alphas_cumprod` table (float32, exact; the same in
all six classes: torch.linspace(beta_start, beta_end, T, float32), 1 - betas, torch.cumprod), from
which every class derives its sigmas in float32 (so sigma(t=0) = 0.0100013297 where float64 gives
0.0100005000: 1 - abar[0] cancels in float32).

What diffusers does that one might not guess (all visible in the vectors)
-------------------------------------------------------------------------
- Each class has its own `linspace`: Euler/Heun/Euler-a use np.linspace(0, T-1, N) as float32,
  unrounded (N = 20: 999, 946.421082, ..., 52.578949, 0; sigmas linearly interpolated in t);
  DDIM rounds np.linspace(0, T-1, N); DPM++ and UniPC take np.linspace(0, T-1, N+1).round(),
  reversed, and drop the last (0): N = 10 gives 999, 899, ..., 500, 400, 300, 200, 100.
  `leading` is k*(T//N) + steps_offset for Euler/Heun/Euler-a/DDIM but k*(T//(N+1)) + steps_offset,
  k = 1..N, for DPM++/UniPC (N = 10, offset 1: 901, 811, ..., 91).
- DDIM steps from t to `t - T//N` whatever the grid: on linspace grids it lands on 899 from 999 but
  the next call is at 888 (ddim_prev_timesteps).
- init_noise_sigma of the Euler family is sigma_max for linspace/trailing (karras too), and
  sqrt(sigma_max^2 + 1) only for leading: on linspace/trailing the first network input is
  noise * sigma_max / sqrt(sigma_max^2 + 1), about 2e-5 below unit noise (visible as ~1.5e-5 in the
  final against DDIM on the same grid; with leading, Euler equals DDIM eta 0 and Euler-a equals DDIM
  eta 1 to float32 rounding).
- karras: Euler/Heun feed the network the fractional timestep _sigma_to_t(sigma) (log-sigma
  interpolation, float32: 999, 936.922119, ...); DPM++/UniPC round it to int64 (999, 937, ...)
  while stepping with the unrounded Karras sigmas. The Karras range (sigma_max, sigma_min) is the
  first and last sigma of the spaced grid (Euler/Heun: so it depends on timestep_spacing) or the
  ends of the whole training table (DPM++/UniPC).
- Heun: 2N - 1 calls; the timestep list repeats every later timestep, the second call of a pair
  is the correction at the destination; the last step (to sigma 0) is a lone Euler stage.
- Last step first order: DPM++ always (final_sigmas_type zero, for N = 10 also lower_order_final
  since N < 15); UniPC's predictor is first order on the last step for every N (its
  lower_order_final has no N < 15 condition), while the corrector applied at the start of the
  last step (to the step before) runs at order 2. No network call follows the last step, so its
  predictor is never corrected.
- Ancestral noise: Euler-a and DDIM (eta > 0) draw one randn of the sample's shape and the model
  output's dtype in every step() including the last, where it is multiplied by 0.
"""
import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import math
import os
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_solver_vectors import GaussianMixture, linear_alphas_cumprod  # noqa: E402  (the exact model)

MODEL_DIR = 'resources/exact/gmm-3x8x8'
OUT_PATH = ROOT / 'src' / 'main' / 'core' / 'engine' / 'solvers' / 'vectors' / 'diffusers_vectors.json'

SEED = 7
SHAPE = (1, 3, 8, 8)
LABEL = 1
STEPS = [10, 20]
SCALES = [0.0, 10.0]
NOISE_STREAM_DRAWS = 2
DTYPE = torch.float64


# ----------------------------------------------------------------------------------------
# Importing diffusers' real scheduler modules (see the module docstring)


def _stub_module(name, attrs, package=False):
    mod = types.ModuleType(name)
    mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    if package:
        mod.__path__ = []
    mod.__dict__.update(attrs)
    mod.__doc__ = 'stub made by tools/vectors/make_diffusers_vectors.py (never called by the schedulers)'
    sys.modules[name] = mod
    return mod


def _never(name):
    def fn(*args, **kwargs):
        raise RuntimeError(f'{name} is a stub in make_diffusers_vectors.py and must not be called')
    fn.__name__ = name.rsplit('.', 1)[-1]
    return fn


def _installed(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


def _load_packaging():
    """The real `packaging`: installed, or the copy vendored in Debian's pip/setuptools/pkg_resources."""
    if _installed('packaging'):
        return 'installed'
    for host in ('pip', 'setuptools', 'pkg_resources'):
        spec = importlib.util.find_spec(host)  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(list(spec.submodule_search_locations)[0]) / '_vendor' / 'packaging'
        if not (folder / 'version.py').exists():
            continue
        pspec = importlib.util.spec_from_file_location('packaging', folder / '__init__.py',
                                                       submodule_search_locations=[str(folder)])
        mod = importlib.util.module_from_spec(pspec)
        sys.modules['packaging'] = mod
        pspec.loader.exec_module(mod)
        importlib.import_module('packaging.version')
        return str(folder.relative_to(folder.parents[2]))
    raise SystemExit('make_diffusers_vectors.py needs `packaging` (Debian: apt-get install python3-packaging)')


def _package_shell(name, folder):
    mod = types.ModuleType(name)
    mod.__path__ = [str(folder)]
    mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    mod.__spec__.submodule_search_locations = [str(folder)]
    mod.__file__ = None
    sys.modules[name] = mod
    return mod


def import_diffusers(src):
    """Returns (module namespace of the scheduler classes and randn_tensor, notes) from diffusers' source tree."""
    pkg = Path(src) / 'diffusers'
    if not (pkg / 'schedulers' / 'scheduling_euler_discrete.py').exists():
        raise SystemExit(f'DIFFUSERS_SRC={src}: no diffusers/schedulers there (expected <checkout>/src)')
    notes = {'stubbed': [], 'packaging': _load_packaging()}

    if not _installed('huggingface_hub'):
        hub_errors = {n: type(n, (Exception,), {}) for n in
                      ('EntryNotFoundError', 'HfHubHTTPError', 'RepositoryNotFoundError', 'RevisionNotFoundError')}
        hub_utils = _stub_module('huggingface_hub.utils', {
            **hub_errors,
            'validate_hf_hub_args': lambda fn: fn,
            'is_jinja_available': _never('huggingface_hub.utils.is_jinja_available'),
        }, package=True)
        _stub_module('huggingface_hub', {
            'DDUFEntry': type('DDUFEntry', (), {}),
            'create_repo': _never('huggingface_hub.create_repo'),
            'hf_hub_download': _never('huggingface_hub.hf_hub_download'),
            'utils': hub_utils,
        }, package=True)
        notes['stubbed'].append('huggingface_hub')
    if not _installed('tqdm'):
        auto = _stub_module('tqdm.auto', {'tqdm': type('tqdm', (), {'__init__': _never('tqdm.auto.tqdm')})})
        _stub_module('tqdm', {'auto': auto}, package=True)
        notes['stubbed'].append('tqdm')
    for device in ('xpu', 'mps'):
        if not hasattr(torch, device):
            setattr(torch, device, types.SimpleNamespace(
                is_available=lambda: False,
                **{fn: _never(f'torch.{device}.{fn}') for fn in
                   ('empty_cache', 'device_count', 'manual_seed', 'synchronize')}))
            notes['stubbed'].append(f'torch.{device}')

    version = re.search(r'^__version__ = "([^"]+)"', (pkg / '__init__.py').read_text(), re.M).group(1)
    diffusers = _package_shell('diffusers', pkg)
    diffusers.__version__ = version
    utils = _package_shell('diffusers.utils', pkg / 'utils')
    diffusers.utils = utils

    logging = importlib.import_module('diffusers.utils.logging')
    utils.logging = logging
    import_utils = importlib.import_module('diffusers.utils.import_utils')
    outputs = importlib.import_module('diffusers.utils.outputs')
    deprecation = importlib.import_module('diffusers.utils.deprecation_utils')
    torch_utils = importlib.import_module('diffusers.utils.torch_utils')
    utils.__dict__.update({
        'BaseOutput': outputs.BaseOutput,
        'deprecate': deprecation.deprecate,
        'is_scipy_available': import_utils.is_scipy_available,
        'DummyObject': import_utils.DummyObject,
        'torch_utils': torch_utils,
        # hub-only names (utils/constants.py, utils/hub_utils.py need huggingface_hub for real)
        'HUGGINGFACE_CO_RESOLVE_ENDPOINT': 'https://huggingface.co',
        'extract_commit_hash': _never('diffusers.utils.extract_commit_hash'),
        'http_user_agent': _never('diffusers.utils.http_user_agent'),
        'PushToHubMixin': type('PushToHubMixin', (), {}),
    })
    logging.set_verbosity_error()  # from_config warns about the config keys a class does not take

    importlib.import_module('diffusers.configuration_utils')
    schedulers = _package_shell('diffusers.schedulers', pkg / 'schedulers')
    diffusers.schedulers = schedulers
    ns = types.SimpleNamespace(randn_tensor=torch_utils.randn_tensor, version=version)
    for module, cls in [('scheduling_euler_discrete', 'EulerDiscreteScheduler'),
                        ('scheduling_euler_ancestral_discrete', 'EulerAncestralDiscreteScheduler'),
                        ('scheduling_heun_discrete', 'HeunDiscreteScheduler'),
                        ('scheduling_dpmsolver_multistep', 'DPMSolverMultistepScheduler'),
                        ('scheduling_unipc_multistep', 'UniPCMultistepScheduler'),
                        ('scheduling_ddim', 'DDIMScheduler')]:
        setattr(ns, cls, getattr(importlib.import_module(f'diffusers.schedulers.{module}'), cls))

    digests = {}
    for name, mod in sorted(sys.modules.items()):
        if name.startswith('diffusers.') and getattr(mod, '__file__', None):
            path = Path(mod.__file__)
            digests[str(path.relative_to(Path(src)))] = hashlib.sha256(path.read_bytes()).hexdigest()
    notes['sources'] = digests
    return ns, notes


# ----------------------------------------------------------------------------------------
# The network: exact Gaussian mixture at the training step round(t), optionally classifier-guided


class Network:
    def __init__(self, gmm, abar, scale, label, other_rounding=False):
        self.gmm, self.abar, self.scale, self.label = gmm, abar, scale, label
        self.other_rounding = other_rounding
        self.nfe = 0
        self.classifier_calls = 0

    def __call__(self, x_in, t):
        assert x_in.dtype == torch.float32
        self.nfe += 1
        tm = model_timestep(t)
        abar = float(self.abar[tm])
        x = x_in.to(DTYPE)
        out = self.gmm.eps(x, abar)
        if self.scale > 0:
            self.classifier_calls += 1
            out = out - self.scale * math.sqrt(1.0 - abar) * self.gmm.class_grad(x, abar, [self.label])
        out32 = out.float()
        if self.other_rounding:
            # The float32 neighbour on the other side of the float64 value (1 ulp away from out32).
            up = out32.to(DTYPE) > out
            down = out32.to(DTYPE) < out
            out32 = torch.where(up, torch.nextafter(out32, torch.full_like(out32, -math.inf)), out32)
            out32 = torch.where(down, torch.nextafter(out32, torch.full_like(out32, math.inf)), out32)
        return out32


def model_timestep(t):
    """The training step where the exact model is evaluated: round half to even (ONNX Round)."""
    v = float(t)
    r = round(v)
    assert 0 <= r <= 999, v
    return r


# ----------------------------------------------------------------------------------------
# Cases


def solver_table(d):
    return {
        'euler': (d.EulerDiscreteScheduler, ['linspace', 'leading', 'trailing', 'karras']),
        'euler-a': (d.EulerAncestralDiscreteScheduler, ['linspace', 'leading', 'trailing']),
        'heun': (d.HeunDiscreteScheduler, ['linspace', 'leading', 'trailing', 'karras']),
        'dpmpp2m': (d.DPMSolverMultistepScheduler, ['linspace', 'leading', 'trailing', 'karras']),
        'unipc2': (d.UniPCMultistepScheduler, ['linspace', 'leading', 'trailing', 'karras']),
        'ddim': (d.DDIMScheduler, ['linspace', 'leading', 'trailing']),
    }


SPACING_OVERRIDES = {
    'linspace': {},
    'leading': {'timestep_spacing': 'leading', 'steps_offset': 1},
    'trailing': {'timestep_spacing': 'trailing'},
    'karras': {'use_karras_sigmas': True},
}


def case_list(d):
    cases = []
    for solver, (cls, spacings) in solver_table(d).items():
        for eta in ([0.0, 1.0] if solver == 'ddim' else [None]):
            for spacing in spacings:
                for steps in STEPS:
                    for scale in SCALES:
                        if spacing in ('leading', 'trailing') and scale > 0 and steps != 10:
                            continue
                        cases.append((solver, cls, eta, spacing, steps, scale))
    return cases


def observe_orders(sched, solver):
    """Wraps (on this instance only) the update methods to record which one each step() uses."""
    log = {'orders': [], 'corrector': []}
    if solver == 'dpmpp2m':
        for name, order in [('dpm_solver_first_order_update', 1), ('multistep_dpm_solver_second_order_update', 2),
                            ('multistep_dpm_solver_third_order_update', 3)]:
            real = getattr(sched, name)

            def wrapped(*a, _real=real, _order=order, **k):
                log['orders'].append(_order)
                return _real(*a, **k)
            setattr(sched, name, wrapped)
    elif solver == 'unipc2':
        for name, key in [('multistep_uni_p_bh_update', 'orders'), ('multistep_uni_c_bh_update', 'corrector')]:
            real = getattr(sched, name)

            def wrapped(*a, _real=real, _key=key, **k):
                log[_key].append(int(k['order']))
                return _real(*a, **k)
            setattr(sched, name, wrapped)
    return log


def nudge(x):
    """Moves every float32 element 1 ulp, up at even flat indices and down at odd ones."""
    flat = x.reshape(-1)
    up = (torch.arange(flat.numel()) % 2 == 0)
    target = torch.where(up, torch.full_like(flat, math.inf), torch.full_like(flat, -math.inf))
    return torch.nextafter(flat, target).reshape(x.shape)


def run(d, cls, solver, eta, overrides, steps, network, config, perturb_state=False):
    sched = cls.from_config(config, **overrides)
    sched.set_timesteps(steps, device='cpu')
    timesteps = sched.timesteps.clone()
    generator = torch.Generator().manual_seed(SEED)
    noise = d.randn_tensor(SHAPE, generator=generator, device=torch.device('cpu'), dtype=torch.float32)
    init_sigma = sched.init_noise_sigma
    latents = noise * init_sigma
    params = set(inspect.signature(sched.step).parameters)
    kwargs = {}
    if 'eta' in params:
        kwargs['eta'] = eta if eta is not None else 0.0
    if 'generator' in params:
        kwargs['generator'] = generator
    log = observe_orders(sched, solver)
    sigma_space = hasattr(sched, 'sigmas') and solver in ('euler', 'euler-a', 'heun')
    divisors, heun_orders, norms, correctors = [], [], [], []
    draws_before = generator.get_state()
    for t in timesteps:
        n_corr = len(log['corrector'])
        x_in = sched.scale_model_input(latents, t)
        if sigma_space:
            sigma = sched.sigmas[sched.step_index]
            divisor = (sigma ** 2 + 1) ** 0.5
            assert torch.equal(x_in, latents / divisor), 'scale_model_input is not latents / (sigma**2 + 1)**0.5'
            divisors.append(float(divisor))
        else:
            assert torch.equal(x_in, latents)
        if solver == 'heun':
            heun_orders.append(1 if sched.state_in_first_order else 2)
        out = network(x_in, t)
        latents = sched.step(out, t, latents, **kwargs).prev_sample
        assert latents.dtype == torch.float32
        if perturb_state:
            latents = nudge(latents)
        if solver == 'unipc2':
            correctors.append(log['corrector'][n_corr] if len(log['corrector']) > n_corr else 0)
        norms.append(float(latents.to(DTYPE).norm()))
    # Count the generator's draws during the loop by replaying them on a copy of its state.
    draws = count_draws(d, draws_before, generator.get_state())
    assert torch.isfinite(latents).all()
    return {
        'sched': sched, 'timesteps': timesteps, 'noise': noise, 'init_sigma': init_sigma, 'final': latents,
        'divisors': divisors, 'heun_orders': heun_orders, 'log': log, 'correctors': correctors,
        'norms': norms, 'draws': draws,
    }


def count_draws(d, before, after, limit=64):
    g = torch.Generator()
    g.set_state(before)
    for n in range(limit + 1):
        if torch.equal(g.get_state(), after):
            return n
        d.randn_tensor(SHAPE, generator=g, device=torch.device('cpu'), dtype=torch.float32)
    raise AssertionError('the scheduler drew noise of another shape or dtype')


def g9(v):
    return float(f'{v:.9g}')


def exact_f32(t):
    """float32 values, each written with 9 significant digits (round-trips float32 exactly)."""
    return [g9(v) for v in t.reshape(-1).tolist()]


def timestep_values(ts):
    if ts.dtype.is_floating_point:
        return [g9(v) for v in ts.tolist()]
    return [int(v) for v in ts.tolist()]


def make_case(d, config, gmm, abar, solver, cls, eta, spacing, steps, scale):
    overrides = dict(SPACING_OVERRIDES[spacing])
    label = LABEL if scale > 0 else None
    net = Network(gmm, abar, scale, LABEL)
    r = run(d, cls, solver, eta, overrides, steps, net, config)
    net_other = Network(gmm, abar, scale, LABEL, other_rounding=True)
    r_other = run(d, cls, solver, eta, overrides, steps, net_other, config, perturb_state=True)
    spread = (r_other['final'].to(DTYPE) - r['final'].to(DTYPE)).abs().max().item()
    sched, ts = r['sched'], r['timesteps']
    assert net.nfe == len(ts), (solver, spacing, net.nfe, len(ts))

    name = f'{solver}{"" if eta is None else f"-eta{eta:g}"}/{spacing}/N{steps}/s{scale:g}'
    case = {
        'id': name,
        'solver': solver,
        'scheduler': cls.__name__,
        'overrides': overrides,
        'spacing': spacing,
        'steps': steps,
    }
    if eta is not None:
        case['eta'] = eta
    case.update({
        'classifier_scale': scale,
        'label': label,
        'timesteps': timestep_values(ts),
        'timestep_dtype': str(ts.dtype).replace('torch.', ''),
    })
    if any(float(t) != round(float(t)) for t in ts):
        case['model_timesteps'] = [model_timestep(t) for t in ts]
    if solver != 'ddim':
        case['sigmas'] = exact_f32(sched.sigmas)
    else:
        ratio = sched.config.num_train_timesteps // sched.num_inference_steps
        case['ddim_prev_timesteps'] = [int(t) - ratio for t in ts]
    init_sigma = r['init_sigma']
    case['init_noise_sigma'] = g9(float(init_sigma))
    if r['divisors']:
        case['input_divisors'] = [g9(v) for v in r['divisors']]
    if solver == 'heun':
        case['step_orders'] = r['heun_orders']
    elif solver == 'dpmpp2m':
        case['step_orders'] = r['log']['orders']
    elif solver == 'unipc2':
        case['step_orders'] = r['log']['orders']
        case['unipc_corrector_orders'] = r['correctors']
    case.update({
        'nfe': net.nfe,
        'classifier_calls': net.classifier_calls,
        'noise_draws': r['draws'],
        'step_norms': [g9(v) for v in r['norms']],
        'final': exact_f32(r['final']),
        'float32_spread': float(f'{spread:.3g}'),
    })
    return case, r['noise']


def main():
    src = os.environ.get('DIFFUSERS_SRC')
    if not src:
        raise SystemExit('set DIFFUSERS_SRC to the src/ folder of a diffusers checkout (see the docstring)')
    d, notes = import_diffusers(src)

    model_path = ROOT / MODEL_DIR / 'gmm.json'
    raw = model_path.read_bytes()
    params = json.loads(raw)
    config = json.loads((ROOT / MODEL_DIR / 'scheduler' / 'scheduler_config.json').read_text())
    gmm = GaussianMixture(params)
    abar = linear_alphas_cumprod(config['num_train_timesteps'])
    assert config['beta_schedule'] == 'linear' and config['beta_start'] == 1e-4 and config['beta_end'] == 0.02

    generator = torch.Generator().manual_seed(SEED)
    initial = d.randn_tensor(SHAPE, generator=generator, device=torch.device('cpu'), dtype=torch.float32)
    stream = [d.randn_tensor(SHAPE, generator=generator, device=torch.device('cpu'), dtype=torch.float32)
              for _ in range(NOISE_STREAM_DRAWS)]

    tables = [cls.from_config(config).alphas_cumprod for cls, _ in solver_table(d).values()]
    assert all(t.dtype == torch.float32 and torch.equal(t, tables[0]) for t in tables)

    cases = []
    for solver, cls, eta, spacing, steps, scale in case_list(d):
        case, noise = make_case(d, config, gmm, abar, solver, cls, eta, spacing, steps, scale)
        assert torch.equal(noise, initial)
        cases.append(case)

    out = {
        'generator': 'DIFFUSERS_SRC=<diffusers checkout>/src DIFFUSERS_COMMIT=<commit> '
                     '/usr/bin/python3 tools/vectors/make_diffusers_vectors.py',
        'diffusers_commit': os.environ.get('DIFFUSERS_COMMIT', 'unknown'),
        'diffusers_version': d.version,
        'diffusers_sources_sha256': notes['sources'],
        'torch_version': torch.__version__,
        'model': MODEL_DIR,
        'model_sha256': hashlib.sha256(raw).hexdigest(),
        'scheduler_config': config,
        'seed': SEED,
        'shape': list(SHAPE),
        'label': LABEL,
        'model_note': ('network(x_in, t) = eps(x_in, abar) - s sqrt(1 - abar) grad log p(label | x_in), '
                       'abar = float64 linear-schedule abar[round_half_even(t)], rounded to float32'),
        'alphas_cumprod_float32': exact_f32(tables[0]),
        # The noise as float64 numbers equal to the float32 values (as solver_vectors.json writes its noise).
        'initial_noise': initial.reshape(-1).tolist(),
        'noise_stream': [s.reshape(-1).tolist() for s in stream],
        'cases': cases,
    }
    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUT_PATH.write_text(json.dumps(out, separators=(',', ':')) + '\n')
    print(f'stubbed: {", ".join(notes["stubbed"]) or "nothing"}; packaging: {notes["packaging"]}')
    print(f'wrote {len(cases)} cases to {OUT_PATH.relative_to(ROOT)} ({OUT_PATH.stat().st_size} bytes)')


if __name__ == '__main__':
    main()
