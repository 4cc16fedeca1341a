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
          λ is usually ramped from 0 to 1 (lambda="schedule").
          """,
        formula: """
          min over θ_f, θ_y, θ_d of  L_y(G_y(G_f(x_s)), y_s) + L_d(G_d(R_λ(G_f(x))), domain)
          R_λ(h) = h forward, −λ·∂ backward;   λ_p = 2 / (1 + e^(−10p)) − 1,  p: progress 0 → 1
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
