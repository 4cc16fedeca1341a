"""The gradient reversal layer of the DANN peers (import after `common`, which pins the threads
before torch loads): the identity forward, the gradient times −λ backward."""
import torch


class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd, None
