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
          lambda=0.1 holds it constant — given to attach() it stays the model's, given to
          train() it holds for that call. The weights the model keeps are their average over
          the last steps (ema=, below).

          When adaptation does not help (mnist → mnistm, the paper's digit network, 6 000 + 3 000
          digits, 3 epochs, SGD lr 0.01 momentum 0.9 — train's defaults —, 5 seeds):
          - The features must learn the labels before the reversal pulls on them. With weights
            drawn as PyTorch draws them the network sat on a plateau for most of its first epoch,
            the reversal won meanwhile, and DANN ended at 0.25 ± 0.18 against 0.66 source only
            (0.10, chance, on 2 seeds). tl draws weights He-uniform, which leaves no plateau.
          - λ rising to the paper's 1 at a constant SGD rate still destroyed the features on 3
            of 5 seeds (0.43 ± 0.30); the paper's runs are long and decay the rate. Ceilings
            0.1 / 0.2 / 0.3 / 0.5 gave 0.76 / 0.77 / 0.78 / 0.73: 0.3 is the default.
          - The reversal makes training a game, and a game's last step lands anywhere on its
            orbit: keeping the last step's weights (ema=0), DANN ended at 0.75 ± 0.09 against
            0.72 source only, one seed 0.11 below it (its discriminator never fooled, 0.88),
            and the same run with other rounding 0.10 higher. An attach()ed model keeps its
            weights averaged over about the last 20 steps (ema=0.95, the default): 0.82 ± 0.02,
            every seed +0.07 or more; with schedule="dann" (the paper's decaying rate) 0.75
            against 0.60, Adam lr 0.001 0.71 against 0.49 — every seed gains in all three.
            Averaging does not lift source only (0.70 against 0.72 with SGD).
          - Watch the history: source_accuracy falling, or domain_accuracy at 0.5 while the
            labels are not learnt, means the reversal is winning — lower lambda_max; a
            domain_accuracy near 1 throughout means the discriminator is never fooled. train
            warns of all three.
          - Tried here and no better (the README has the figures): batch norm or dropout in
            the domain classifier, conditioning it on the predictions (CDAN), the target's
            entropy or confident pseudo-labels, source-only epochs first, the discriminator at
            another layer. DANN ends near 0.82 on every seed whatever source only reached
            (0.69–0.74), so the seed whose source model transfers best gains least (+0.07–0.08).
          - PyTorch, training the same network on the same digits the same way, lands there too:
            DANN 0.811–0.815 against 0.692–0.700 source only, and its lowest gain of five seeds
            moved from +0.064 to +0.091 between two runs of other draws (the README).
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
