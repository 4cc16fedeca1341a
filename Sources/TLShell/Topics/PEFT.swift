extension Topic {
    static let peft = Topic(
        name: "peft", title: "Parameter-efficient fine-tuning: LoRA and adapters",
        text: """
          Fine-tuning a large model changes all of its weights, and every task keeps its own copy.
          Parameter-efficient fine-tuning freezes the pretrained weights and trains a few added
          ones: a task is then a small set of values beside a shared model.
          - LoRA (Hu et al. 2021): lora(m, rank=r) puts a low-rank update beside each linear and
            convolution layer's weight W: W + (alpha/r)·B·A, A (r×in) drawn at random and B
            (out×r) zero, so training starts from the pretrained model. layers=["7", "fc"]
            chooses the layers (state_dict names); merge(m) folds B·A into W: a plain model, the
            same outputs, no extra cost when it runs.
          - Adapters (Houlsby et al. 2019): adapter(m, size=k) inserts h + up(relu(down(h))) after
            linear and convolution layers (1×1 convolutions on feature maps), up starting at zero.
          Both return a copy with everything else frozen; params(m, trainable=true) and summary(m)
          show what trains. To train a new head too: m.fc = linear(512, k) or unfreeze(m[9]).
          Measured (Benchmarks/seeds/peft.tl: a CNN pretrained on mnist, 10 labels per class, 40
          epochs, batch 10, mean ± sd of 3 seeds):
            way                 trainable  usps SGD   svhn SGD   svhn Adam 1e-3  svhn Adam 1e-2
            full fine-tuning       81 002  0.94±0.01  0.89±0.01  0.87±0.08       0.81±0.05
            last layer only         1 290  0.93±0.02  0.55±0.07  0.49±0.04       0.58±0.09
            LoRA rank 2             2 602  0.93±0.01  0.84±0.01  0.56±0.02       0.86±0.02
            LoRA rank 4             5 204  0.93±0.02  0.87±0.02  0.66±0.01       0.88±0.03
            adapters (size 8)       3 016  0.93±0.01  0.82±0.08  0.73±0.07       0.85±0.06
          On usps, close to mnist, training the last layer is enough; on svhn the features must
          change, and LoRA keeps most of full fine-tuning's gain with 6 % of its values.
          With Adam, LoRA wants a larger lr than full fine-tuning (0.01 rather than 0.001): its
          updates start at zero and each value moves by about lr a step. With SGD keep alpha =
          rank (the default): at alpha = 2·rank the loss exploded on most runs.
          scripts/lecture/16-peft.tl draws the comparison.
          """,
        formula: """
          LoRA:     y = W x + b + (α/r) · B (A x),    A ∈ ℝ^{r×in} random, B ∈ ℝ^{out×r} = 0, W and b frozen
          merged:   W' = W + (α/r) · B A
          adapter:  y = h + W_up · relu(W_down · h + b_down) + b_up,   h = base(x), W_up = 0, b_up = 0
          """,
        example: """
          seed(1)
          net = cnn()
          train(net, digits(600), epochs=2, quiet=true);
          m = lora(net, rank=4)
          print(params(m, trainable=true), "of", params(m), "values train")
          few = take(digits(300, style="usps", seed=2), 5, per_class=true)
          train(m, few, epochs=10, batch=10, quiet=true);
          plain = merge(m)
          x = few.x
          print("merged outputs differ by", max(abs(plain(x) - m(x))) / max(abs(m(x))), "relative")
          """)
}
