"""WideResNet (FixMatch / TorchSSL / USB wrn.py variant) in PyTorch, shared by the benchmark
reference scripts tools/bench/train-step-reference.py and tools/bench/lico-step-reference.py.

Pre-activation basic blocks, BatchNorm momentum 0.001 / eps 0.001, LeakyReLU 0.1, convolutions
with bias, Kaiming-normal (fan_out, leaky_relu) convolution init. The reference quirk is kept: when
a block changes width, BN+LeakyReLU is applied to the input in place of it only if
activate_before_residual is set (the first block of block1); otherwise (the first block of block2
and block3) BN+LeakyReLU is computed but conv1 and the shortcut see the raw input.

The two scripts differ in three things, chosen by keyword arguments with no defaults so that each
caller states what it builds:
- inplace_relu: nn.LeakyReLU(0.1, inplace=...) (lico-step: True, train-step: False; same values);
- xavier_fc: Xavier-normal weight and zero bias for the final Linear after the default init
  (train-step: True, lico-step: False); this changes the initial weights and the RNG stream;
- return_features: forward returns (fmap [N,C,H,W], pooled embedding [N,C], logits) instead of
  logits (lico-step: True, train-step: False).

Import from a script in tools/bench/ with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
    from wrn_reference import WideResNet
"""
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """Pre-activation basic block (TorchSSL wrn.py), see the module docstring for the quirk."""

    def __init__(self, cin, cout, stride, activate_before_residual=False, *, inplace_relu):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=0.001, eps=0.001)
        self.relu1 = nn.LeakyReLU(0.1, inplace=inplace_relu)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.001, eps=0.001)
        self.relu2 = nn.LeakyReLU(0.1, inplace=inplace_relu)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=True)
        self.equal = cin == cout
        self.shortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride, 0, bias=True)
        self.abr = activate_before_residual

    def forward(self, x):
        if not self.equal and self.abr:
            x = self.relu1(self.bn1(x))
            out = x
        else:
            # When widths differ (first block of block2/3) this is computed but unused, as in the
            # reference implementation (BatchNorm still updates its running statistics).
            out = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(out if self.equal else x))))
        return (x if self.equal else self.shortcut(x)) + out


class WideResNet(nn.Module):
    """WRN-depth-widen for 32x32 inputs (WRN-28-2, 10 classes: 1,469,642 parameters)."""

    def __init__(self, num_classes=10, depth=28, widen=2, *, inplace_relu, xavier_fc, return_features):
        super().__init__()
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        n = (depth - 4) // 6
        self.return_features = return_features
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=True)

        def group(cin, cout, stride, abr):
            return nn.Sequential(*[
                BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1, abr, inplace_relu=inplace_relu)
                for i in range(n)
            ])

        self.block1 = group(ch[0], ch[1], 1, True)
        self.block2 = group(ch[1], ch[2], 2, False)
        self.block3 = group(ch[2], ch[3], 2, False)
        self.bn1 = nn.BatchNorm2d(ch[3], momentum=0.001, eps=0.001)
        self.relu = nn.LeakyReLU(0.1, inplace=inplace_relu)
        self.fc = nn.Linear(ch[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='leaky_relu')
            elif xavier_fc and isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        fmap = self.relu(self.bn1(out))  # [N,C,H,W]
        emb = F.adaptive_avg_pool2d(fmap, 1).flatten(1)
        logits = self.fc(emb)
        return (fmap, emb, logits) if self.return_features else logits
