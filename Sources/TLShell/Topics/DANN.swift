extension Topic {
    static let dann = Topic(
        name: "dann", title: "Domain-adversarial training (DANN)",
        text: """
          Labelled source data, unlabelled target data. Split the network into a feature extractor
          G_f = net[0:at] and a label predictor G_y = net[at:], and attach a domain classifier G_d
          to the features through a gradient reversal layer: the identity going forward, the
          gradient times −λ going back. Minimising one loss then trains G_d to tell source from
          target features, and G_f to make them indistinguishable while still predicting the
          labels. The history's domain accuracy shows the discriminator being fooled (0.5).
          λ ramps up from 0 (lambda="schedule", the default) to lambda_max, 0.3 by default;
          lambda=0.1 holds it constant.

          When adaptation does not help (mnist → mnistm, the paper's digit network, 6 000 + 3 000
          digits, 3 epochs, SGD lr 0.01 momentum 0.9 — train's defaults —, 5 seeds):
          - The features must learn the labels before the reversal pulls on them. With weights
            drawn as PyTorch draws them the network sat on a plateau for most of its first epoch,
            the reversal won meanwhile, and DANN ended at 0.25 ± 0.18 against 0.66 source only
            (0.10, chance, on 2 seeds). tl draws weights He-uniform, which leaves no plateau.
          - λ rising to the paper's 1 at a constant SGD rate still destroyed the features on 3
            of 5 seeds (0.43 ± 0.30); the paper's runs are long and decay the rate. Up to 0.3:
            0.78 ± 0.02, +0.09 to +0.17 over source only on every seed (0.5: 0.73, one seed
            +0.01). With schedule="dann" (the paper's decaying rate) λ up to 1 works too.
          - Watch the history: source_accuracy falling, or domain_accuracy at 0.5 while the
            labels are not learnt, means the reversal is winning — lower lambda_max; a
            domain_accuracy near 1 throughout means the discriminator is never fooled.
          """,
        formula: """
          min over θ_f, θ_y, θ_d of  L_y(G_y(G_f(x_s)), y_s) + L_d(G_d(R_λ(G_f(x))), domain)
          R_λ(h) = h forward, −λ·∂ backward;   λ_p = λ_max · (2 / (1 + e^(−10p)) − 1),  p: progress 0 → 1
          """,
        example: """
          seed(1)
          src = digits(400)
          tgt = unlabel(digits(400, style="mnistm", seed=2))
          net = cnn()
          adv = attach(net, mlp([512, 32, 2]), at=7)
          h = train(adv, src, target=tgt, epochs=2, optimizer="adam", lr=0.001, quiet=true)
          h.domain_accuracy
          round(evaluate(net, digits(200, style="mnistm", seed=3)).accuracy, 2)
          """)
}
